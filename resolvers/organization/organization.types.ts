import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { MutationPayload, NodeInterface } from '../common.types';
import { MemberType } from '../member/member.types';

@ObjectType('Organization', { implements: NodeInterface })
export class OrganizationType extends NodeInterface {
  @Field()
  name!: string;

  @Field()
  createdAt!: Date;
}

@InputType()
export class OrganizationCreateInput {
  @Field()
  name!: string;

  @Field()
  ownerName!: string;

  @Field()
  ownerEmail!: string;
}

@ObjectType()
export class OrganizationCreatePayload extends MutationPayload {
  @Field(() => OrganizationType, { nullable: true })
  organization?: OrganizationType;

  @Field(() => MemberType, { nullable: true })
  owner?: MemberType;

  @Field(() => String, { nullable: true, description: "The owner's access token; shown only this once" })
  ownerToken?: string;
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
