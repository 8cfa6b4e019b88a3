import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { KeyLimitPeriod } from '../src/limits/periods';
import { MoneyScalar } from '../src/graphql/money.scalar';
import { TokenCountScalar } from '../src/graphql/count.scalar';
import { Connection, MutationPayload, NodeInterface } from './common.types';
import './usage.types';

@ObjectType('ApiKey', {
  implements: NodeInterface,
  description: "A key the AI gateway presents for a workspace's customer; it spends from the workspace's wallet. Its secret is shown only once",
})
export class ApiKeyType extends NodeInterface {
  @Field()
  name!: string;

  @Field({ description: 'The first characters of the secret, to recognise the key' })
  prefix!: string;

  @Field(() => MoneyScalar, { nullable: true, description: 'Most the key may spend per limitPeriod; null: no cost limit' })
  costLimit!: bigint | null;

  @Field(() => TokenCountScalar, { nullable: true, description: 'Most tokens (input + output) per limitPeriod; null: no token limit' })
  tokenLimit!: bigint | null;

  @Field(() => KeyLimitPeriod)
  limitPeriod!: KeyLimitPeriod;

  @Field(() => Int, { nullable: true, description: 'Most requests in any 60 seconds; null: no rate limit' })
  requestsPerMinute!: number | null;

  @Field(() => Date, { nullable: true, description: 'After this the gateway refuses the key; null: never expires' })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  @Field()
  createdAt!: Date;
}

export const ApiKeyConnection = Connection(ApiKeyType, 'ApiKey');

const CLEARS = 'Left out: unchanged; null: removed.';

@InputType()
export class ApiKeyCreateInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field()
  name!: string;

  @Field(() => ID, { nullable: true, description: 'A project of the same workspace whose budget the key spends from' })
  projectId?: string | null;

  @Field(() => MoneyScalar, { nullable: true, description: 'Most the key may spend per limitPeriod; not negative' })
  costLimit?: bigint | null;

  @Field(() => TokenCountScalar, { nullable: true, description: 'Most tokens per limitPeriod' })
  tokenLimit?: bigint | null;

  @Field(() => KeyLimitPeriod, { nullable: true, description: 'Default MONTHLY' })
  limitPeriod?: KeyLimitPeriod | null;

  @Field(() => Int, { nullable: true, description: '1 to 1000000' })
  requestsPerMinute?: number | null;

  @Field(() => Date, { nullable: true, description: 'In the future' })
  expiresAt?: Date | null;
}

@ObjectType()
export class ApiKeyCreatePayload extends MutationPayload {
  @Field(() => ApiKeyType, { nullable: true })
  apiKey?: ApiKeyType;

  @Field(() => String, { nullable: true, description: 'The key for the gateway; shown only this once, only its SHA-256 is kept' })
  secret?: string;
}

@InputType({ description: `Only the fields given change. ${CLEARS} (name and limitPeriod cannot be removed: null leaves them unchanged.)` })
export class ApiKeyUpdateInput {
  @Field(() => ID)
  apiKeyId!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => ID, { nullable: true, description: `A project of the key's workspace. ${CLEARS}` })
  projectId?: string | null;

  @Field(() => MoneyScalar, { nullable: true, description: `Not negative. ${CLEARS}` })
  costLimit?: bigint | null;

  @Field(() => TokenCountScalar, { nullable: true, description: CLEARS })
  tokenLimit?: bigint | null;

  @Field(() => KeyLimitPeriod, { nullable: true })
  limitPeriod?: KeyLimitPeriod | null;

  @Field(() => Int, { nullable: true, description: `1 to 1000000. ${CLEARS}` })
  requestsPerMinute?: number | null;

  @Field(() => Date, { nullable: true, description: `In the future. ${CLEARS} (never expires)` })
  expiresAt?: Date | null;
}

@ObjectType()
export class ApiKeyUpdatePayload extends MutationPayload {
  @Field(() => ApiKeyType, { nullable: true })
  apiKey?: ApiKeyType;
}

@InputType()
export class ApiKeyRevokeInput {
  @Field(() => ID)
  apiKeyId!: string;
}

@ObjectType()
export class ApiKeyRevokePayload extends MutationPayload {
  @Field(() => ApiKeyType, { nullable: true })
  apiKey?: ApiKeyType;
}
