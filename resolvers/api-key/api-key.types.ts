import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { BudgetInput, TokenBudgetInput } from '../budget/budget.types';
import { Connection, MutationPayload, NodeInterface } from '../common.types';

@ObjectType('ApiKey', {
  implements: NodeInterface,
  description: "A key the AI gateway presents for a workspace's customer; it spends from the workspace's wallet. Its secret is shown only once",
})
export class ApiKeyType extends NodeInterface {
  @Field()
  name!: string;

  @Field({ description: 'The first characters of the secret, to recognise the key' })
  prefix!: string;

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
const ONE_PERIOD = "A key's budget and token budget reset on one period: DAILY, WEEKLY or MONTHLY.";

@InputType()
export class ApiKeyCreateInput {
  @Field(() => ID)
  workspaceId!: string;

  @Field()
  name!: string;

  @Field(() => ID, { nullable: true, description: 'A project of the same workspace whose budget the key spends from' })
  projectId?: string | null;

  @Field(() => ID, { nullable: true, description: 'A current member of the organization the key belongs to; by default the one who creates it' })
  ownerMemberId?: string | null;

  @Field(() => BudgetInput, { nullable: true, description: `Most the key may spend per period. ${ONE_PERIOD}` })
  budget?: BudgetInput | null;

  @Field(() => TokenBudgetInput, { nullable: true, description: `Most tokens per period. ${ONE_PERIOD}` })
  tokenBudget?: TokenBudgetInput | null;

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

@InputType({ description: `Only the fields given change. ${CLEARS} (name cannot be removed: null leaves it unchanged.)` })
export class ApiKeyUpdateInput {
  @Field(() => ID)
  apiKeyId!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => ID, { nullable: true, description: `A project of the key's workspace. ${CLEARS}` })
  projectId?: string | null;

  @Field(() => ID, { nullable: true, description: "A current member of the organization: the key's calls count for them from now on. Null leaves it unchanged" })
  ownerMemberId?: string | null;

  @Field(() => BudgetInput, { nullable: true, description: `${ONE_PERIOD} ${CLEARS}` })
  budget?: BudgetInput | null;

  @Field(() => TokenBudgetInput, { nullable: true, description: `${ONE_PERIOD} ${CLEARS}` })
  tokenBudget?: TokenBudgetInput | null;

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
