import { ArrayType, BigIntType, Entity, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';
import { Wallet } from './wallet.entity';

/**
 * A balance below which its recipients are alerted, once per downward crossing. Armed while
 * the wallet's balance is at or above it; the alert disarms it, a balance back at or above it
 * arms it again.
 */
@Entity({ tableName: 'low_balance_thresholds' })
export class LowBalanceThreshold {
  @PrimaryKey({ type: 'text' })
  id: string = newId('lowBalanceThreshold');

  @ManyToOne(() => Organization)
  organization!: Organization;

  @ManyToOne(() => Wallet)
  wallet!: Wallet;

  /** Nano-USD, positive. */
  @Property({ type: new BigIntType('bigint') })
  amount!: bigint;

  /** Members of the organization who receive its alerts. */
  @Property({ type: ArrayType })
  recipientMemberIds!: string[];

  @Property({ type: 'boolean', defaultRaw: 'true' })
  armed: boolean & Opt = true;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
