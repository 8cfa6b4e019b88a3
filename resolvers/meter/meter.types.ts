import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { CountScalar } from '../../src/graphql/count.scalar';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { MutationPayload } from '../common.types';

@ObjectType('Meter', { description: "A metered extra (traces, …): the gateway reports units; those beyond a workspace's monthly allowance are charged" })
export class MeterType {
  @Field({ description: 'What the gateway names in gatewayMeterReport, e.g. `trace`' })
  name!: string;

  @Field(() => MoneyScalar, { description: 'Per unit beyond the allowance (no markup)' })
  unitPrice!: bigint;

  @Field(() => CountScalar, { description: 'Units each workspace has included per UTC calendar month, unless it has its own allowance' })
  includedPerMonth!: bigint;

  @Field()
  updatedAt!: Date;
}

@ObjectType('WorkspaceMeter', { description: "A meter as a workspace has it: its allowance and this month's count" })
export class WorkspaceMeterType {
  @Field(() => MeterType)
  meter!: MeterType;

  @Field(() => CountScalar, { description: "The workspace's allowance per month" })
  includedPerMonth!: bigint;

  @Field({ description: "The workspace has its own allowance, not the meter's" })
  overridden!: boolean;

  @Field({ description: 'The start of the current UTC calendar month' })
  monthStart!: Date;

  @Field(() => CountScalar, { description: 'Units reported this month' })
  used!: bigint;

  @Field(() => CountScalar, { description: 'Of them, those charged: beyond the allowance in force when each was reported' })
  billed!: bigint;

  @Field(() => MoneyScalar, { description: 'What they cost' })
  cost!: bigint;
}

@InputType()
export class MeterSetInput {
  @Field({ description: 'Lower-case letters, digits, ".", "_", "-"; starts with a letter; at most 64' })
  name!: string;

  @Field(() => MoneyScalar, { description: 'Per unit, at most 1000' })
  unitPrice!: bigint;

  @Field(() => CountScalar)
  includedPerMonth!: bigint;
}

@ObjectType()
export class MeterSetPayload extends MutationPayload {
  @Field(() => MeterType, { nullable: true })
  meter?: MeterType;
}

@InputType()
export class MeterAllowanceSetInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field()
  meter!: string;

  @Field(() => CountScalar, { nullable: true, description: "Null removes the workspace's own allowance: the meter's applies again (required: give null to remove)" })
  includedPerMonth?: bigint | null;
}

@ObjectType()
export class MeterAllowanceSetPayload extends MutationPayload {
  @Field(() => WorkspaceMeterType, { nullable: true })
  workspaceMeter?: WorkspaceMeterType;
}
