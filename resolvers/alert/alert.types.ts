import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { AlertKind, AlertWebhookStatus } from '../../entities';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { Connection, MutationPayload, NodeInterface } from '../common.types';

registerEnumType(AlertKind, { name: 'AlertKind', description: 'What the alert is about' });
registerEnumType(AlertWebhookStatus, {
  name: 'AlertWebhookStatus',
  description: "Delivery to the organization's webhook: PENDING and QUEUED until sent, DELIVERED, or FAILED after the last attempt",
});

@ObjectType('Alert', { implements: NodeInterface, description: "Something that needs a person's attention, kept until acknowledged" })
export class AlertType extends NodeInterface {
  @Field(() => AlertKind)
  kind!: AlertKind;

  @Field()
  message!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  acknowledgedAt!: Date | null;

  @Field(() => MoneyScalar, { nullable: true, description: 'Low-balance alerts: the threshold the balance fell below' })
  threshold!: bigint | null;

  @Field(() => MoneyScalar, { nullable: true, description: "Low-balance alerts: the balance that fell below it (with the organization's credit line: what was left to spend)" })
  balance!: bigint | null;

  @Field(() => AlertWebhookStatus, { nullable: true, description: 'Null when the organization had no webhook when it was raised' })
  webhookStatus!: AlertWebhookStatus | null;
}

export const AlertConnection = Connection(AlertType, 'Alert');

@InputType()
export class AlertAcknowledgeInput {
  @Field(() => ID)
  alertId!: string;
}

@ObjectType()
export class AlertAcknowledgePayload extends MutationPayload {
  @Field(() => AlertType, { nullable: true })
  alert?: AlertType;
}

