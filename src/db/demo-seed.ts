import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Member, MemberRole, Organization } from '../../entities';
import { randomBase62 } from '../ids';
import { adjustWallet } from '../ledger/wallet-operations';
import { createOrganization, issueToken } from '../organizations/organization.service';
import type { EventBus } from '../realtime/pubsub';
import { createWorkspace } from '../workspaces/workspace.service';
import { parseMoney } from '../money';

export const DEMO_ORGANIZATION = 'Demo Organization';

export interface DemoTokens {
  ownerToken: string;
  adminToken: string;
}

/**
 * Seeds the embedded database once: a demo organization, a workspace whose wallet holds a
 * MANUAL grant of $25, and an owner token. Token secrets are kept only as hashes in the
 * database, so the demo's own copies live beside the data (`demo-tokens.json`) and a restart
 * prints the same ones.
 */
export async function seedDemo(em: EntityManager, bus: EventBus, dataDir: string, configuredAdminToken?: string): Promise<DemoTokens> {
  const file = join(dataDir, 'demo-tokens.json');
  const saved: Partial<DemoTokens> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const adminToken = configuredAdminToken ?? saved.adminToken ?? `tga_${randomBase62(32)}`;
  let ownerToken = saved.ownerToken;

  const existing = await em.fork().findOne(Organization, { name: DEMO_ORGANIZATION });
  if (!existing) {
    const { organization, secret } = await createOrganization(em, {
      name: DEMO_ORGANIZATION,
      ownerName: 'Demo Owner',
      ownerEmail: 'owner@demo.tollgate.local',
    });
    const { wallet } = await createWorkspace(em, organization.id, 'Default');
    await adjustWallet(em, bus, {
      walletId: wallet.id,
      amount: parseMoney('25'),
      description: 'Demo credit',
      idempotencyKey: 'demo-seed-grant',
    });
    ownerToken = secret;
  } else if (!ownerToken) {
    // The database survived but the token file did not: give the owner a new token.
    const fork = em.fork();
    const owner = await fork.findOneOrFail(Member, { organization: existing, role: MemberRole.OWNER, removedAt: null });
    ownerToken = issueToken(fork, owner, 'Demo owner token').secret;
    await fork.flush();
  }
  writeFileSync(file, JSON.stringify({ ownerToken, adminToken }, null, 2), { mode: 0o600 });
  return { ownerToken: ownerToken!, adminToken };
}
