import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKey, Member, Project, Wallet, Workspace } from '../../entities';
import type { MemberActor } from '../actor';
import { newApiKeySecret } from '../auth/tokens';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, UserErrorCode } from '../errors';
import { KeyLimitPeriod, type Period } from '../limits/periods';
import { type BudgetSetting, requireBudget, requireText } from '../validation';

/** Far above any real gateway's per-key rate (≈16,700 requests a second), low enough to catch a typo. */
export const MAX_REQUESTS_PER_MINUTE = 1_000_000;

/**
 * The limits of a key as a mutation gives them. In an update a field left out (undefined) keeps
 * the current value and an explicit null clears it. `budget` limits the cost, `tokenBudget` the
 * tokens (input + output), each per calendar period.
 */
export interface ApiKeyLimitsInput {
  budget?: BudgetSetting<Period> | null;
  tokenBudget?: BudgetSetting<Period> | null;
  requestsPerMinute?: number | null;
  expiresAt?: Date | null;
}

/** A key's limits as stored: its two budgets share one period column. */
interface KeyLimits {
  costLimit: bigint | null;
  tokenLimit: bigint | null;
  limitPeriod: KeyLimitPeriod;
}

const KEY_PERIODS: readonly string[] = Object.values(KeyLimitPeriod);

/**
 * The limits a key has after the input: budgets left out stay, null removes one. A key's budgets
 * reset on one period (DAILY, WEEKLY or MONTHLY), so a budget given must share it with the other
 * one, given too or kept.
 */
function keyLimits(input: ApiKeyLimitsInput, current: KeyLimits): KeyLimits {
  const budget = requireBudget(input.budget, 'budget');
  const tokenBudget = requireBudget(input.tokenBudget, 'tokenBudget');
  const given = (['budget', 'tokenBudget'] as const).flatMap((field) => {
    const setting = field === 'budget' ? budget : tokenBudget;
    return setting ? [{ field, period: setting.period as string }] : [];
  });
  for (const { field, period } of given) {
    if (!KEY_PERIODS.includes(period)) {
      throw new DomainError(UserErrorCode.INVALID, "A key's budgets reset DAILY, WEEKLY or MONTHLY", ['input', field, 'period']);
    }
  }
  const limitPeriod = (given[0]?.period ?? current.limitPeriod) as KeyLimitPeriod;
  const keepsOne = (budget === undefined && current.costLimit !== null) || (tokenBudget === undefined && current.tokenLimit !== null);
  const clash = given.find(({ period }) => period !== limitPeriod) ?? (keepsOne && limitPeriod !== current.limitPeriod ? given[0] : undefined);
  if (clash) {
    throw new DomainError(UserErrorCode.INVALID, "A key's budget and token budget reset on one period: give both to change it", ['input', clash.field, 'period']);
  }
  return {
    costLimit: budget === undefined ? current.costLimit : (budget?.amount ?? null),
    tokenLimit: tokenBudget === undefined ? current.tokenLimit : (tokenBudget?.amount ?? null),
    limitPeriod,
  };
}

export interface ApiKeyCreateInput extends ApiKeyLimitsInput {
  workspaceId: string;
  name: string;
  projectId?: string | null;
  /** The member the key belongs to; by default the one who creates it. */
  ownerMemberId?: string | null;
}

export interface ApiKeyUpdateInput extends ApiKeyLimitsInput {
  apiKeyId: string;
  name?: string | null;
  projectId?: string | null;
  /** Another current member of the organization; left out or null: unchanged. */
  ownerMemberId?: string | null;
}

function checkLimits(input: ApiKeyLimitsInput, now: Date): void {
  const rpm = input.requestsPerMinute;
  if (rpm != null && (!Number.isInteger(rpm) || rpm < 1 || rpm > MAX_REQUESTS_PER_MINUTE)) {
    throw new DomainError(
      UserErrorCode.INVALID,
      `requestsPerMinute must be between 1 and ${MAX_REQUESTS_PER_MINUTE}; null means no rate limit`,
      ['input', 'requestsPerMinute'],
    );
  }
  if (input.expiresAt != null && input.expiresAt.getTime() <= now.getTime()) {
    throw new DomainError(UserErrorCode.INVALID, 'expiresAt must be in the future', ['input', 'expiresAt']);
  }
}

/** A project of the key's own workspace: one of another workspace answers as not found. */
async function findProject(tx: EntityManager, workspaceId: string, projectId: string): Promise<Project> {
  const project = await tx.findOne(Project, { id: projectId, workspace: workspaceId });
  if (!project) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such project in this workspace', ['input', 'projectId']);
  return project;
}

/** A current member of the organization: one of another organization, or removed, answers as not found. */
async function findOwner(tx: EntityManager, organizationId: string, memberId: string): Promise<Member> {
  const member = await tx.findOne(Member, { id: memberId, organization: organizationId, removedAt: null });
  if (!member) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such member in this organization', ['input', 'ownerMemberId']);
  return member;
}

async function findKey(tx: EntityManager, organizationId: string, apiKeyId: string): Promise<ApiKey> {
  const apiKey = await tx.findOne(ApiKey, { id: apiKeyId, organization: organizationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!apiKey) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such API key', ['input', 'apiKeyId']);
  return apiKey;
}

/**
 * A new key of a workspace, spending from the workspace's wallet, belonging to the member who
 * creates it or to the member named. The secret exists only in the result: the database keeps its
 * SHA-256 and a short prefix to display.
 */
export async function createApiKey({ em, now }: Pick<Deps, 'em' | 'now'>, actor: MemberActor, input: ApiKeyCreateInput) {
  const name = requireText(input.name, 'name');
  checkLimits(input, now());
  const limits = keyLimits(input, { costLimit: null, tokenLimit: null, limitPeriod: KeyLimitPeriod.MONTHLY });
  return inTransaction(em, async (tx) => {
    const workspace = await tx.findOne(Workspace, { id: input.workspaceId, organization: actor.organizationId });
    if (!workspace) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such workspace', ['input', 'workspaceId']);
    const wallet = await tx.findOneOrFail(Wallet, { workspace });
    const project = input.projectId == null ? null : await findProject(tx, workspace.id, input.projectId);
    const owner = await findOwner(tx, actor.organizationId, input.ownerMemberId ?? actor.memberId);
    const { secret, hash, prefix } = newApiKeySecret();
    const apiKey = tx.create(ApiKey, {
      organization: actor.organizationId,
      workspace,
      wallet,
      project,
      owner,
      name,
      secretHash: hash,
      prefix,
      ...limits,
      requestsPerMinute: input.requestsPerMinute ?? null,
      expiresAt: input.expiresAt ?? null,
    });
    await tx.flush();
    return { apiKey, secret };
  });
}

/**
 * Changes what the input names: a field left out keeps its value, an explicit null clears a
 * limit, the project or the expiry. A new owner counts for the key's calls from then on. A revoked key is final and cannot be changed.
 */
export async function updateApiKey({ em, now }: Pick<Deps, 'em' | 'now'>, actor: MemberActor, input: ApiKeyUpdateInput) {
  const name = input.name == null ? undefined : requireText(input.name, 'name');
  checkLimits(input, now());
  return inTransaction(em, async (tx) => {
    const apiKey = await findKey(tx, actor.organizationId, input.apiKeyId);
    if (apiKey.revokedAt) {
      throw new DomainError(UserErrorCode.INVALID, 'A revoked API key cannot be changed', ['input', 'apiKeyId']);
    }
    if (name !== undefined) apiKey.name = name;
    if (input.projectId !== undefined) {
      apiKey.project = input.projectId === null ? null : await findProject(tx, apiKey.workspace.id, input.projectId);
    }
    if (input.ownerMemberId != null) apiKey.owner = await findOwner(tx, actor.organizationId, input.ownerMemberId);
    const { costLimit = null, tokenLimit = null, limitPeriod } = apiKey;
    Object.assign(apiKey, keyLimits(input, { costLimit, tokenLimit, limitPeriod }));
    if (input.requestsPerMinute !== undefined) apiKey.requestsPerMinute = input.requestsPerMinute;
    if (input.expiresAt !== undefined) apiKey.expiresAt = input.expiresAt;
    await tx.flush();
    return apiKey;
  });
}

/** Revoking is idempotent: a key already revoked keeps its first revocation time. */
export async function revokeApiKey({ em, now }: Pick<Deps, 'em' | 'now'>, actor: MemberActor, { apiKeyId }: { apiKeyId: string }) {
  const at = now();
  return inTransaction(em, async (tx) => {
    const apiKey = await findKey(tx, actor.organizationId, apiKeyId);
    apiKey.revokedAt ??= at;
    await tx.flush();
    return apiKey;
  });
}
