import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Member, MemberRole, Organization, TransactionType, Wallet, Workspace } from '../../entities';
import { type MemberActor, PLATFORM_ADMIN } from '../actor';
import { setLowBalanceThreshold } from '../alerts/low-balance';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { type DebitRequest, type GatewayRequest, RoutingMode, TOKENS_ONLY } from '../gateway/contract';
import { DebitEngine } from '../gateway/engine';
import { randomBase62 } from '../ids';
import { createApiKey } from '../keys/api-key.service';
import { upsertIdentity } from '../keys/identity.service';
import { postEntries } from '../ledger/ledger';
import { Period } from '../limits/periods';
import { parseMoney } from '../money';
import { updateBillingProfile } from '../payments/billing.service';
import { createOrganization, issueToken } from '../organizations/organization.service';
import { priceCall } from '../pricing/cost';
import { routingMarkups } from '../pricing/routing-markup.service';
import { setMeter } from '../pricing/meter.service';
import { setModelPrice } from '../pricing/model-price.service';
import type { Logger } from '../logger';
import type { EventBus } from '../realtime/pubsub';
import { createProject, createWorkspace } from '../workspaces/workspace.service';
import { DEMO_MODEL_PRICES, type DemoPrice } from './catalog';
import { type DemoCall, demoHistory, seededRandom, type TrafficProfile } from './history';

export const DEMO_ORGANIZATION = 'Demo Organization';
/** The workspace whose wallet the printed key spends from. */
const DEMO_WORKSPACE = 'Default';
/** What the demo wallet holds after its history. */
export const DEMO_AVAILABLE = parseMoney('25');
const HISTORY_DAYS = 30;
/** Traces of the chat backend's calls, as orq prices them: within the allowance, so the history charges none. */
const DEMO_METER = { name: 'trace', unitPrice: parseMoney('0.0005'), includedPerMonth: 10_000n };
const TRACED_PROFILE = 'Chat backend';
const DAY_MS = 86_400_000;

export interface Demo {
  ownerToken: string;
  adminToken: string;
  gatewayToken: string;
  /** The demo workspace's API key for trying the gateway (secret). */
  apiKey: string;
}

export interface DemoSettings {
  dataDir: string;
  logger: Logger;
  /** Configured tokens win over the demo's own. */
  adminToken?: string;
  gatewayToken?: string;
  now: Date;
}

/**
 * Seeds the embedded database once with an organization to explore: a price list, a meter, two
 * workspaces with projects, keys, end users, a transfer, low-balance thresholds and 30 days of
 * gateway traffic (and its traces), charged through the gateway engine and the ledger like real calls. Secrets
 * are kept only as hashes in the database, so the demo's own copies live beside the data
 * (`demo-tokens.json`) and a restart prints the same ones.
 */
export async function seedDemo(em: EntityManager, bus: EventBus, settings: DemoSettings): Promise<Demo> {
  const file = join(settings.dataDir, 'demo-tokens.json');
  const saved: Partial<Demo> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const adminToken = settings.adminToken ?? saved.adminToken ?? `tga_${randomBase62(32)}`;
  const gatewayToken = settings.gatewayToken ?? saved.gatewayToken ?? `tgw_${randomBase62(32)}`;

  const existing = await em.fork().findOne(Organization, { name: DEMO_ORGANIZATION }); // the seed's own unit of work
  const demo = existing
    ? { adminToken, gatewayToken, ...(await recoverSecrets(em, existing, saved, settings.now)) }
    : { adminToken, gatewayToken, ...(await createDemo(em, bus, settings)) };
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}

/** The database survived but the file did not (or predates a secret): new secrets for what is missing. */
async function recoverSecrets(em: EntityManager, organization: Organization, saved: Partial<Demo>, now: Date) {
  const fork = em.fork();
  const owner = await fork.findOneOrFail(Member, { organization, role: MemberRole.OWNER, removedAt: null });
  let ownerToken = saved.ownerToken;
  if (!ownerToken) {
    ownerToken = issueToken(fork, owner, 'Demo owner token').secret;
    await fork.flush();
  }
  let apiKey = saved.apiKey;
  if (!apiKey) {
    const workspace = await fork.findOneOrFail(Workspace, { organization, name: DEMO_WORKSPACE });
    apiKey = (await createDemoKey({ em: fork, now: () => now }, ownerPrincipal(owner), workspace.id, `Demo key ${now.toISOString()}`)).secret;
  }
  return { ownerToken, apiKey };
}

/** The owner as the services take an actor; the seed acts without a token of its own. */
function ownerPrincipal(owner: Member): MemberActor {
  return { kind: 'MEMBER', memberId: owner.id, organizationId: owner.organization.id, role: MemberRole.OWNER, tokenId: '' };
}

function createDemoKey(deps: Pick<Deps, 'em' | 'now'>, owner: MemberActor, workspaceId: string, name: string) {
  return createApiKey(deps, owner, { workspaceId, name, budget: { amount: parseMoney('10'), period: Period.DAILY } });
}

const CHAT_USERS = Array.from({ length: 12 }, (_, i) => [`user_${1001 + i}`, i === 0 ? 0.3 : 1 + (i % 4)] as const);
/** user_1001 (a light user) has a budget, so that end-user budgets show in the demo. */
const BUDGETED_USER = { externalId: 'user_1001', budget: { amount: parseMoney('5'), period: Period.MONTHLY } };

/** Daytime in the Americas and Europe, quieter at weekends. */
export const DEMO_TRAFFIC: TrafficProfile[] = [
  {
    name: 'Chat backend',
    models: [
      ['anthropic/claude-sonnet-4.5', 35],
      ['openai/gpt-5-mini', 30],
      ['openai/gpt-4o-mini', 20],
      ['google/gemini-2.5-flash', 15],
    ],
    identities: CHAT_USERS,
    // The router picks the model for each chat turn; the conversation so far is mostly cached.
    routingMode: RoutingMode.AUTO,
    inputTokens: [600, 8000],
    cachedShare: 0.6,
    outputTokens: [120, 1500],
    callsPerHour: (hour, weekday) => (weekday ? 1 : 0.5) * (hour >= 13 && hour < 23 ? 7 : hour >= 7 && hour < 13 ? 3 : 1),
  },
  {
    name: 'Search indexer',
    models: [
      ['google/gemini-2.5-flash', 50],
      ['deepseek/deepseek-chat', 30],
      ['openai/gpt-4.1', 12],
      ['mistralai/mistral-large', 8],
    ],
    identities: null,
    routingMode: RoutingMode.DIRECT,
    inputTokens: [3000, 24000],
    cachedShare: 0,
    outputTokens: [80, 500],
    // A nightly indexing run.
    callsPerHour: (hour) => (hour >= 1 && hour < 5 ? 18 : 0.3),
  },
  {
    name: 'Eval runner',
    models: [
      ['openai/gpt-5', 40],
      ['google/gemini-2.5-pro', 35],
      ['anthropic/claude-opus-4.1', 10],
      ['anthropic/claude-haiku-4.5', 15],
    ],
    identities: null,
    // Evaluations run model tiers against each other; the shared instructions are cached.
    routingMode: RoutingMode.TIER,
    inputTokens: [800, 4000],
    cachedShare: 0.3,
    outputTokens: [200, 1500],
    // Evaluation runs on weekday afternoons.
    callsPerHour: (hour, weekday) => (weekday && hour >= 14 && hour < 18 ? 8 : 0),
  },
];

async function createDemo(em: EntityManager, bus: EventBus, { now, logger }: DemoSettings) {
  logger.info('first start: seeding the demo organization with 30 days of gateway traffic');
  const started = Date.now();
  // The seed is one unit of work of its own, on the server's clock.
  const deps = { em: em.fork(), now: () => now };
  const { owner, secret: ownerToken } = await createOrganization(deps, PLATFORM_ADMIN, {
    name: DEMO_ORGANIZATION,
    ownerName: 'Demo Owner',
    ownerEmail: 'owner@demo.tollgate.local',
  });
  const actor = ownerPrincipal(owner);
  // A purchase needs a billing name and address: with these, buying credits works out of the box.
  // Kept here only; the Stripe customer, when payments are on, is made from it on first need.
  await updateBillingProfile({ em: deps.em, stripe: null }, actor, {
    name: 'Demo Organization Inc.',
    address: { line1: '1 Demo Street', city: 'San Francisco', postalCode: '94105', state: 'CA', country: 'US' },
  });
  for (const { model, input, output, cachedInput, cacheWrite } of DEMO_MODEL_PRICES as readonly DemoPrice[]) {
    await setModelPrice(deps, PLATFORM_ADMIN, { model, ...demoPrice(input, output, cachedInput, cacheWrite) });
  }
  await setMeter(deps, PLATFORM_ADMIN, DEMO_METER);
  const main = await createWorkspace(deps, actor, { name: DEMO_WORKSPACE });
  const research = await createWorkspace(deps, actor, { name: 'Research' });
  const chat = await createProject(deps, actor, { workspaceId: main.workspace.id, name: 'Chat assistant', budget: { amount: parseMoney('60'), period: Period.MONTHLY } });
  const search = await createProject(deps, actor, { workspaceId: main.workspace.id, name: 'Document search' });
  const evaluations = await createProject(deps, actor, { workspaceId: research.workspace.id, name: 'Evaluations' });
  const { secret: apiKey } = await createDemoKey(deps, actor, main.workspace.id, 'Demo key');
  // One key per traffic profile, named after it.
  const keys = new Map<string, { secret: string; workspace: Workspace }>();
  for (const [name, workspace, project] of [
    ['Chat backend', main.workspace, chat],
    ['Search indexer', main.workspace, search],
    ['Eval runner', research.workspace, evaluations],
  ] as const) {
    const { secret } = await createApiKey(deps, actor, { workspaceId: workspace.id, name, projectId: project.id });
    keys.set(name, { secret, workspace });
  }
  await upsertIdentity(deps, actor, { workspaceId: main.workspace.id, ...BUDGETED_USER });

  const from = new Date(now.getTime() - HISTORY_DAYS * DAY_MS);
  // The ledger's partitions start at the month it was made in: the history's first month needs one too.
  await em.fork().execute('select transactions_month_partition(?::date)', [from.toISOString().slice(0, 10)]);
  const calls = demoHistory(DEMO_TRAFFIC, from, now, seededRandom(20261128));
  const mainSpend = await spendOf(
    deps,
    calls.filter((call) => keys.get(call.profile)!.workspace === main.workspace),
    main.workspace,
  );
  const transfer = { at: new Date(from.getTime() + 18 * DAY_MS), amount: parseMoney('10') };
  // The opening credit covers the history and the transfer and leaves DEMO_AVAILABLE.
  await post(em, from, [
    { walletId: main.wallet.id, type: TransactionType.MANUAL, amount: DEMO_AVAILABLE + transfer.amount + mainSpend, description: 'Demo credit', actor: 'admin' },
    { walletId: research.wallet.id, type: TransactionType.MANUAL, amount: parseMoney('25'), description: 'Demo credit', actor: 'admin' },
  ]);

  let clock = from;
  const engine = new DebitEngine({ em, bus, clock: () => clock });
  let transferred = false;
  for (const [at, group] of byMoment(calls)) {
    if (!transferred && at >= transfer.at) {
      const description = 'Credits for the evaluation runs';
      await post(em, transfer.at, [
        { walletId: main.wallet.id, type: TransactionType.TRANSFER_OUT, amount: -transfer.amount, description, actor: owner.id, counterpartyWalletId: research.wallet.id },
        { walletId: research.wallet.id, type: TransactionType.TRANSFER_IN, amount: transfer.amount, description, actor: owner.id, counterpartyWalletId: main.wallet.id },
      ]);
      transferred = true;
    }
    clock = at;
    const requests: GatewayRequest[] = group.map(({ call, index }) => debitOf(call, keys.get(call.profile)!.secret, index));
    const traced = group.filter(({ call }) => call.profile === TRACED_PROFILE);
    if (traced.length > 0) {
      const idempotencyKey = `demo-traces-${traced[0].index}`;
      requests.push({ kind: 'meter', apiKey: keys.get(TRACED_PROFILE)!.secret, idempotencyKey, meter: DEMO_METER.name, quantity: BigInt(traced.length), identity: null });
    }
    const outcomes = await engine.submitAll(requests);
    const refused = outcomes.find((outcome) => !outcome.allowed);
    if (refused) throw new Error(`the demo history was refused a call: ${refused.denial?.code}`);
  }

  for (const amount of ['10', '5']) {
    await setLowBalanceThreshold({ em: deps.em, bus }, actor, { walletId: main.wallet.id, amount: parseMoney(amount) });
  }
  const wallet = await em.fork().findOneOrFail(Wallet, main.wallet.id);
  if (wallet.balance !== DEMO_AVAILABLE) throw new Error(`the demo wallet ended at ${wallet.balance} nano-USD instead of ${DEMO_AVAILABLE}`);
  logger.info({ calls: calls.length, ms: Date.now() - started }, 'demo seeded');
  return { ownerToken, apiKey };
}

function post(em: EntityManager, at: Date, entries: Parameters<typeof postEntries>[1]) {
  return inTransaction(em, (tx) => postEntries(tx, entries, at));
}

/** A catalog entry as the price it sets (USD per 1M tokens). */
function demoPrice(input: string, output: string, cachedInput?: string, cacheWrite?: string) {
  return {
    inputPricePerMillion: parseMoney(input),
    outputPricePerMillion: parseMoney(output),
    cachedInputPricePerMillion: cachedInput === undefined ? null : parseMoney(cachedInput),
    cacheWritePricePerMillion: cacheWrite === undefined ? null : parseMoney(cacheWrite),
  };
}

/** What the calls cost in `workspace`, computed as the gateway will charge them (the markups of its routing modes). */
async function spendOf(deps: Pick<Deps, 'em'>, calls: DemoCall[], workspace: Workspace): Promise<bigint> {
  const prices = new Map(
    (DEMO_MODEL_PRICES as readonly DemoPrice[]).map(({ model, input, output, cachedInput, cacheWrite }) => {
      const price = demoPrice(input, output, cachedInput, cacheWrite);
      return [model, { inputPrice: price.inputPricePerMillion, outputPrice: price.outputPricePerMillion, cachedInputPrice: price.cachedInputPricePerMillion, cacheWritePrice: price.cacheWritePricePerMillion }];
    }),
  );
  const markups = new Map((await routingMarkups(deps, workspace.id)).map(({ mode, markupBasisPoints }) => [mode, markupBasisPoints]));
  return calls.reduce((sum, call) => sum + priceCall(call, prices.get(call.model)!, markups.get(call.routingMode)!)!.cost, 0n);
}

/** The calls grouped by their moment, in time order, each with its place in the whole history. */
function byMoment(calls: DemoCall[]): Map<Date, Array<{ call: DemoCall; index: number }>> {
  const groups = new Map<number, { at: Date; members: Array<{ call: DemoCall; index: number }> }>();
  calls.forEach((call, index) => {
    const group = groups.get(call.at.getTime()) ?? { at: call.at, members: [] };
    group.members.push({ call, index });
    groups.set(call.at.getTime(), group);
  });
  return new Map([...groups.values()].sort((a, b) => a.at.getTime() - b.at.getTime()).map((group) => [group.at, group.members]));
}

function debitOf(call: DemoCall, apiKey: string, index: number): DebitRequest {
  return {
    kind: 'debit',
    apiKey,
    idempotencyKey: `demo-history-${index}`,
    model: call.model,
    identity: call.identity,
    routingMode: call.routingMode,
    ...TOKENS_ONLY,
    inputTokens: call.inputTokens,
    outputTokens: call.outputTokens,
    cachedInputTokens: call.cachedInputTokens,
  };
}
