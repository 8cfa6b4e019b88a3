import { ArrayType, BigIntType, Entity, Enum, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { LowBalanceThreshold } from './low-balance-threshold.entity';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';
import { Wallet } from './wallet.entity';

/** Delivery to the organization's webhook; none when it had no webhook at the time. */
export enum AlertWebhookStatus {
  PENDING = 'PENDING',
  QUEUED = 'QUEUED',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}

export enum AlertKind {
  /** Auto top-up failed three times in a row and was turned off. */
  AUTO_TOP_UP_DISABLED = 'AUTO_TOP_UP_DISABLED',
  /** A wallet reached its daily number of auto top-ups; no more today. */
  AUTO_TOP_UP_DAILY_LIMIT = 'AUTO_TOP_UP_DAILY_LIMIT',
  /** A wallet's balance fell below one of its low-balance thresholds. */
  LOW_BALANCE = 'LOW_BALANCE',
}

/** Something that needs a person's attention, kept until acknowledged. */
@Entity({ tableName: 'alerts' })
export class Alert {
  @PrimaryKey({ type: 'text' })
  id: string = newId('alert');

  @ManyToOne(() => Organization)
  organization!: Organization;

  @ManyToOne(() => Wallet, { nullable: true })
  wallet?: Wallet | null;

  @Enum({ items: () => AlertKind, type: 'text' })
  kind!: AlertKind;

  @Property({ type: 'text' })
  message!: string;

  @Property({ type: 'text', nullable: true, unique: true })
  dedupeKey?: string | null;

  /** The threshold a LOW_BALANCE alert is about, while it exists. */
  @ManyToOne(() => LowBalanceThreshold, { nullable: true, deleteRule: 'set null' })
  lowBalanceThreshold?: LowBalanceThreshold | null;

  /** LOW_BALANCE: the threshold crossed, nano-USD. */
  @Property({ type: new BigIntType('bigint'), nullable: true })
  threshold?: bigint | null;

  /** LOW_BALANCE: the balance that crossed it, nano-USD. */
  @Property({ type: new BigIntType('bigint'), nullable: true })
  balance?: bigint | null;

  /** Members it is addressed to (empty: whoever looks after the organization). */
  @Property({ type: ArrayType, defaultRaw: "'{}'" })
  recipientMemberIds: string[] & Opt = [];

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', length: 3, nullable: true })
  acknowledgedAt?: Date | null;

  @Enum({ items: () => AlertWebhookStatus, type: 'text', nullable: true })
  webhookStatus?: AlertWebhookStatus | null;

  @Property({ type: 'integer', defaultRaw: '0' })
  webhookAttempts: number & Opt = 0;

  /** Why the last delivery attempt failed. */
  @Property({ type: 'text', nullable: true })
  webhookError?: string | null;

  /** Who acknowledged it: a member id, or "admin". */
  @Property({ type: 'text', nullable: true })
  acknowledgedBy?: string | null;
}
