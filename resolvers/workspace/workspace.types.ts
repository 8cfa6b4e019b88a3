import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection, MutationPayload, NodeInterface } from '../common.types';

@ObjectType('Workspace', { implements: NodeInterface, description: 'A workspace of an organization, with one shared wallet' })
export class WorkspaceType extends NodeInterface {
  @Field()
  name!: string;

  @Field(() => Int, {
    name: 'markupBasisPoints',
    description: "Added to the operator's model prices for this workspace's usage, in basis points: 1000 is 10%",
  })
  markupBps!: number;

  @Field()
  createdAt!: Date;
}

export const WorkspaceConnection = Connection(WorkspaceType, 'Workspace');

@InputType()
export class WorkspaceCreateInput {
  @Field()
  name!: string;

  @Field(() => ID, { nullable: true, description: "Required for the platform admin; a member's own organization otherwise" })
  organizationId?: string | null;
}

@ObjectType()
export class WorkspaceCreatePayload extends MutationPayload {
  @Field(() => WorkspaceType, { nullable: true })
  workspace?: WorkspaceType;
}

@InputType({ description: 'Only the fields given change; null leaves a field unchanged' })
export class WorkspaceUpdateInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => Int, { nullable: true, description: '0 to 100000 (1000 is 10%)' })
  markupBasisPoints?: number | null;
}

@ObjectType()
export class WorkspaceUpdatePayload extends MutationPayload {
  @Field(() => WorkspaceType, { nullable: true })
  workspace?: WorkspaceType;
}

