import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { AlertKind } from '../entities';
import { Connection, MutationPayload, NodeInterface } from './common.types';

registerEnumType(AlertKind, { name: 'AlertKind', description: 'What the alert is about' });

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
