import { BigIntType, Entity, Enum, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';
import { Wallet } from './wallet.entity';

export enum PurchaseKind {
  PURCHASE = 'PURCHASE',
  AUTO_TOP_UP = 'AUTO_TOP_UP',
}

export enum PurchaseStatus {
  PENDING = 'PENDING',
  REQUIRES_ACTION = 'REQUIRES_ACTION',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

/** Credits bought through a Stripe PaymentIntent: the amount paid and the bonus on top. */
@Entity({ tableName: 'purchases' })
export class Purchase {
  @PrimaryKey({ type: 'text' })
  id: string = newId('purchase');

  @ManyToOne(() => Organization)
  organization!: Organization;

  @ManyToOne(() => Wallet)
  wallet!: Wallet;

  @Enum({ items: () => PurchaseKind, type: 'text' })
  kind!: PurchaseKind;

  @Property({ type: new BigIntType('bigint') })
  amount!: bigint;

  @Property({ type: new BigIntType('bigint') })
  bonus!: bigint;

  /** What Stripe has refunded of the amount so far. */
  @Property({ type: new BigIntType('bigint'), defaultRaw: '0' })
  refunded: bigint & Opt = 0n;

  @Enum({ items: () => PurchaseStatus, type: 'text' })
  status: PurchaseStatus & Opt = PurchaseStatus.PENDING;

  @Property({ type: 'text', nullable: true })
  failureReason?: string | null;

  @Property({ type: 'text', nullable: true })
  paymentMethodId?: string | null;

  /** An auto top-up's attempt being made, or waiting to be (each has its own PaymentIntent). */
  @Property({ type: 'integer', defaultRaw: '1' })
  attempt: number & Opt = 1;

  @Property({ type: 'text', nullable: true, unique: true })
  paymentIntentId?: string | null;

  @Property({ type: 'text', nullable: true, unique: true })
  invoiceId?: string | null;

  @Property({ type: 'text', nullable: true })
  invoiceNumber?: string | null;

  /** Stripe's PDF of the invoice. */
  @Property({ type: 'text', nullable: true })
  invoicePdf?: string | null;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', length: 3, nullable: true })
  completedAt?: Date | null;
}
