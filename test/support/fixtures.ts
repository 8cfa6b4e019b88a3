import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, type GraphQLClient, type GraphQLResult, type TestApp } from './app';

/** Polls until `check` gives a value, for what happens in the background (jobs, webhooks). */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function unique(label: string): string {
  return `${label} ${randomBytes(4).toString('hex')}`;
}

export interface OrgFixture {
  organizationId: string;
  ownerId: string;
  ownerToken: string;
}

/** A new organization, made through the API as the platform admin. */
export async function createOrganization(app: GraphQLClient, name = unique('Org')): Promise<OrgFixture> {
  const { organizationCreate } = await app.data(
    `mutation ($input: OrganizationCreateInput!) {
       organizationCreate(input: $input) { organization { id } owner { id } ownerToken userErrors { code message } }
     }`,
    { input: { name, ownerName: 'Olivia Owner', ownerEmail: 'olivia@example.com' } },
    ADMIN_TOKEN,
  );
  expectNoUserErrors(organizationCreate);
  return { organizationId: organizationCreate.organization.id, ownerId: organizationCreate.owner.id, ownerToken: organizationCreate.ownerToken };
}

export interface WorkspaceFixture {
  workspaceId: string;
  walletId: string;
}

export async function createWorkspace(app: GraphQLClient, token: string, name = unique('Workspace')): Promise<WorkspaceFixture> {
  const { workspaceCreate } = await app.data(
    `mutation ($input: WorkspaceCreateInput!) {
       workspaceCreate(input: $input) { workspace { id wallet { id } } userErrors { code message } }
     }`,
    { input: { name } },
    token,
  );
  expectNoUserErrors(workspaceCreate);
  return { workspaceId: workspaceCreate.workspace.id, walletId: workspaceCreate.workspace.wallet.id };
}

/** A member of `role` with a token of their own. */
export async function createMemberWithToken(app: GraphQLClient, managerToken: string, role: string) {
  const { memberCreate } = await app.data(
    `mutation ($input: MemberCreateInput!) { memberCreate(input: $input) { member { id } userErrors { code message } } }`,
    { input: { name: `${role} person`, email: `${unique(role).replace(' ', '-')}@example.com`, role } },
    managerToken,
  );
  expectNoUserErrors(memberCreate);
  const { memberTokenCreate } = await app.data(
    `mutation ($input: MemberTokenCreateInput!) {
       memberTokenCreate(input: $input) { token { id } secret userErrors { code message } }
     }`,
    { input: { memberId: memberCreate.member.id, name: 'test' } },
    managerToken,
  );
  expectNoUserErrors(memberTokenCreate);
  return { memberId: memberCreate.member.id as string, tokenId: memberTokenCreate.token.id as string, token: memberTokenCreate.secret as string };
}

export const ADJUST = `mutation ($input: WalletAdjustInput!) {
  walletAdjust(input: $input) { transaction { id type amount balanceAfter } userErrors { field code message } }
}`;

export const TRANSFER = `mutation ($input: WalletTransferInput!) {
  walletTransfer(input: $input) {
    transferOut { id amount balanceAfter } transferIn { id amount balanceAfter }
    userErrors { field code message }
  }
}`;

/** Credits a wallet with a MANUAL adjustment made by the platform admin. */
export async function fund(app: GraphQLClient, walletId: string, amount: string): Promise<void> {
  const { walletAdjust } = await app.data(
    ADJUST,
    { input: { walletId, amount, description: 'test funding', idempotencyKey: unique('fund') } },
    ADMIN_TOKEN,
  );
  expectNoUserErrors(walletAdjust);
}

export async function balanceOf(app: GraphQLClient, walletId: string, token = ADMIN_TOKEN): Promise<string> {
  const { node } = await app.data(`query ($id: ID!) { node(id: $id) { ... on Wallet { balance } } }`, { id: walletId }, token);
  return node.balance;
}

/** The `extensions.code` of each top-level error. */
export function codes(result: GraphQLResult): Array<string | undefined> {
  return (result.errors ?? []).map((error) => error.extensions?.code);
}

/** A new organization with one workspace named "Main". */
export async function organizationWithWorkspace(app: GraphQLClient) {
  const org = await createOrganization(app);
  return { ...org, ...(await createWorkspace(app, org.ownerToken, 'Main')) };
}

export function expectNoUserErrors(payload: { userErrors: unknown[] }): void {
  if (payload.userErrors.length > 0) throw new Error(`unexpected userErrors: ${JSON.stringify(payload.userErrors)}`);
}

/** Documents of the organization and membership mutations, selecting what the tests look at. */
export const ORGANIZATION_CREATE = `mutation ($input: OrganizationCreateInput!) {
  organizationCreate(input: $input) {
    organization { id name createdAt } owner { id name email role removedAt } ownerToken
    userErrors { field code message }
  }
}`;

export const MEMBER_CREATE = `mutation ($input: MemberCreateInput!) {
  memberCreate(input: $input) { member { id name email role removedAt } userErrors { field code message } }
}`;

export const MEMBER_REMOVE = `mutation ($input: MemberRemoveInput!) {
  memberRemove(input: $input) { removedId member { id role removedAt } userErrors { field code message } }
}`;

export const MEMBER_TOKEN_CREATE = `mutation ($input: MemberTokenCreateInput!) {
  memberTokenCreate(input: $input) { token { id name prefix createdAt revokedAt } secret userErrors { field code message } }
}`;

export const MEMBER_TOKEN_REVOKE = `mutation ($input: MemberTokenRevokeInput!) {
  memberTokenRevoke(input: $input) { token { id revokedAt } userErrors { field code message } }
}`;

export const WORKSPACE_CREATE = `mutation ($input: WorkspaceCreateInput!) {
  workspaceCreate(input: $input) {
    workspace { id name organization { id } wallet { id balance } }
    userErrors { field code message }
  }
}`;

export const PROJECT_CREATE = `mutation ($input: ProjectCreateInput!) {
  projectCreate(input: $input) { project { id name } userErrors { field code message } }
}`;

/**
 * Everything an organization owns, read straight from the database: compare a snapshot taken
 * before a refused request with one taken after to show that the request changed nothing.
 */
export async function organizationState(app: TestApp, organizationId: string) {
  const em = app.orm.em.fork();
  const rows = (sql: string) => em.execute(sql, [organizationId]);
  return {
    organization: await rows('select id, name from organizations where id = ?'),
    members: await rows(
      'select id, email, role, removed_at is not null as removed from members where organization_id = ? order by id',
    ),
    tokens: await rows(
      'select id, member_id, revoked_at is not null as revoked from access_tokens where organization_id = ? order by id',
    ),
    workspaces: await rows('select id, name from workspaces where organization_id = ? order by id'),
    projects: await rows('select id, workspace_id, name from projects where organization_id = ? order by id'),
    wallets: await rows(
      `select w.id, w.balance::text as balance,
              (select count(*)::int from transactions t where t.wallet_id = w.id) as transactions
         from wallets w where w.organization_id = ? order by w.id`,
    ),
    transactions: await rows('select count(*)::int as count from transactions where organization_id = ?'),
    idempotencyKeys: await rows('select count(*)::int as count from idempotency_keys where organization_id = ?'),
  };
}
