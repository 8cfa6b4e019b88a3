import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { RoutingMode } from '../../src/gateway/contract';
import { MutationPayload } from '../common.types';

@ObjectType('RoutingMarkup', { description: 'The markup of a routing mode on the price of a call' })
export class RoutingMarkupType {
  @Field(() => RoutingMode)
  mode!: RoutingMode;

  @Field(() => Int, { description: '1000 is 10%' })
  markupBasisPoints!: number;

  @Field({ description: "A workspace's own markup, not the operator's for every workspace" })
  overridden!: boolean;
}

@InputType()
export class RoutingMarkupSetInput {
  @Field(() => RoutingMode, { description: "AUTO or TIER (DIRECT calls have the workspace's markup: workspaceUpdate)" })
  mode!: RoutingMode;

  @Field(() => Int, { nullable: true, description: '0 to 100000 (1000 is 10%); null with a workspace removes its own, so that the operator’s applies' })
  markupBasisPoints!: number | null;

  @Field(() => ID, { nullable: true, description: "Left out: the operator's markup, for every workspace without its own" })
  workspaceId?: string | null;
}

@ObjectType()
export class RoutingMarkupSetPayload extends MutationPayload {
  @Field(() => [RoutingMarkupType], { nullable: true, description: "The markups in force after the change: the operator's, or the workspace's" })
  routingMarkups?: RoutingMarkupType[];
}
