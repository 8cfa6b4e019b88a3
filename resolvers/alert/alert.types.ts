import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { AlertKind, AlertWebhookStatus } from '../../entities';
import { MoneyScalar } from '../../src/graphql/money.scalar';
import { Connection, MutationPayload, NodeInterface, RemovePayload } from '../common.types';
import { OrganizationType } from '../organization/organization.types';

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

  @Field(() => MoneyScalar, { nullable: true, description: 'Low-balance alerts: the balance that fell below it' })
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

@ObjectType('LowBalanceThreshold', {
  implements: NodeInterface,
  description: "A balance below which a wallet's chosen members are alerted, once each time the balance falls below it",
})
export class LowBalanceThresholdType extends NodeInterface {
  @Field(() => MoneyScalar)
  amount!: bigint;

  @Field({ description: 'False from its alert until the balance is back at or above it' })
  armed!: boolean;

  @Field()
  createdAt!: Date;
}

@InputType()
export class LowBalanceThresholdSetInput {
  @Field(() => ID)
  walletId!: string;

  @Field(() => MoneyScalar, { description: 'Alert when the balance falls below this (USD, above zero); setting an existing amount again changes its recipients' })
  amount!: bigint;

  @Field(() => [ID], { nullable: true, description: 'Members who receive its alerts; yourself when left out' })
  recipientMemberIds?: string[] | null;
}

@ObjectType()
export class LowBalanceThresholdSetPayload extends MutationPayload {
  @Field(() => LowBalanceThresholdType, { nullable: true })
  threshold?: LowBalanceThresholdType;
}

@InputType()
export class LowBalanceThresholdRemoveInput {
  @Field(() => ID)
  lowBalanceThresholdId!: string;
}

@ObjectType()
export class LowBalanceThresholdRemovePayload extends RemovePayload {
}

@InputType()
export class AlertWebhookSetInput {
  @Field({ description: 'An http(s) URL; each alert is POSTed to it as JSON, signed in the Tollgate-Signature header' })
  url!: string;
}

@ObjectType()
export class AlertWebhookSetPayload extends MutationPayload {
  @Field(() => OrganizationType, { nullable: true })
  organization?: OrganizationType;

  @Field(() => String, {
    nullable: true,
    description: 'The new signing secret, shown only here: Tollgate-Signature is t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">',
  })
  signingSecret?: string;
}

@InputType()
export class AlertWebhookRemoveInput {
  @Field(() => ID, { nullable: true, description: 'Your organization (the default when left out)' })
  organizationId?: string | null;
}

@ObjectType()
export class AlertWebhookRemovePayload extends MutationPayload {
  @Field(() => OrganizationType, { nullable: true })
  organization?: OrganizationType;
}
