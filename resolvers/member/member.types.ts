import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { MemberRole } from '../../entities';
import { Connection, MutationPayload, NodeInterface, RemovePayload } from '../common.types';

registerEnumType(MemberRole, {
  name: 'MemberRole',
  description: 'OWNER and ADMIN manage members, workspaces and transfers; MEMBER uses; VIEWER only reads',
});

@ObjectType('Member', { implements: NodeInterface })
export class MemberType extends NodeInterface {
  @Field()
  name!: string;

  @Field()
  email!: string;

  @Field(() => MemberRole)
  role!: MemberRole;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  removedAt!: Date | null;
}

export const MemberConnection = Connection(MemberType, 'Member');

@ObjectType('AccessToken', {
  implements: NodeInterface,
  description: 'A member token; its secret is shown only once, when created',
})
export class AccessTokenType extends NodeInterface {
  @Field()
  name!: string;

  @Field({ description: 'The first characters of the secret, to recognise it' })
  prefix!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}

@InputType()
export class MemberCreateInput {
  @Field()
  name!: string;

  @Field()
  email!: string;

  @Field(() => MemberRole)
  role!: MemberRole;
}

@ObjectType()
export class MemberCreatePayload extends MutationPayload {
  @Field(() => MemberType, { nullable: true })
  member?: MemberType;
}

@InputType()
export class MemberRemoveInput {
  @Field(() => ID)
  memberId!: string;
}

@ObjectType()
export class MemberRemovePayload extends RemovePayload {
  @Field(() => MemberType, { nullable: true, description: 'The member as removed (removedAt set); it stays in the history' })
  member?: MemberType;
}

@InputType()
export class MemberTokenCreateInput {
  @Field(() => ID)
  memberId!: string;

  @Field({ description: 'A label to tell the token apart, e.g. "CI" or "laptop"' })
  name!: string;
}

@ObjectType()
export class MemberTokenCreatePayload extends MutationPayload {
  @Field(() => AccessTokenType, { nullable: true })
  token?: AccessTokenType;

  @Field(() => String, { nullable: true, description: 'The bearer secret; shown only this once' })
  secret?: string;
}

@InputType()
export class MemberTokenRevokeInput {
  @Field(() => ID)
  accessTokenId!: string;
}

@ObjectType()
export class MemberTokenRevokePayload extends MutationPayload {
  @Field(() => AccessTokenType, { nullable: true })
  token?: AccessTokenType;
}
