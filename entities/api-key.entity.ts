import { BigIntType, Entity, Enum, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { KeyLimitPeriod } from '../src/limits/periods';
import { Member } from './member.entity';
import { Organization } from './organization.entity';
import { Project } from './project.entity';
import { Wallet } from './wallet.entity';
import { Workspace } from './workspace.entity';

/** A customer's key for the gateway; only the SHA-256 of its secret is stored. */
@Entity({ tableName: 'api_keys' })
export class ApiKey {
  @PrimaryKey({ type: 'text' })
  id: string = newId('apiKey');

  @ManyToOne(() => Organization)
  organization!: Organization;

  @ManyToOne(() => Workspace)
  workspace!: Workspace;

  @ManyToOne(() => Wallet)
  wallet!: Wallet;

  @ManyToOne(() => Project, { nullable: true })
  project?: Project | null;

  /** The member the key belongs to; null for keys made before keys had owners. */
  @ManyToOne(() => Member, { nullable: true, fieldName: 'owner_member_id' })
  owner?: Member | null;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text', unique: true, hidden: true })
  secretHash!: string;

  @Property({ type: 'text' })
  prefix!: string;

  /** Nano-USD per limit period; null: no cost limit. */
  @Property({ type: new BigIntType('bigint'), nullable: true })
  costLimit?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  tokenLimit?: bigint | null;

  @Enum({ items: () => KeyLimitPeriod, type: 'text' })
  limitPeriod: KeyLimitPeriod & Opt = KeyLimitPeriod.MONTHLY;

  @Property({ type: 'integer', nullable: true })
  requestsPerMinute?: number | null;

  @Property({ type: 'timestamptz', length: 3, nullable: true })
  expiresAt?: Date | null;

  @Property({ type: 'timestamptz', length: 3, nullable: true })
  revokedAt?: Date | null;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
