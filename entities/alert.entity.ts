import { Entity, Enum, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';
import { Wallet } from './wallet.entity';

export enum AlertKind {
  /** Auto top-up failed three times in a row and was turned off. */
  AUTO_TOP_UP_DISABLED = 'AUTO_TOP_UP_DISABLED',
  /** A wallet reached its daily number of auto top-ups; no more today. */
  AUTO_TOP_UP_DAILY_LIMIT = 'AUTO_TOP_UP_DAILY_LIMIT',
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

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', length: 3, nullable: true })
  acknowledgedAt?: Date | null;

  /** Who acknowledged it: a member id, or "admin". */
  @Property({ type: 'text', nullable: true })
  acknowledgedBy?: string | null;
}
