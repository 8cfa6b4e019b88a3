import { BigIntType, Entity, Enum, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { Organization } from './organization.entity';
import { Wallet } from './wallet.entity';

export enum TransactionType {
  PURCHASE = 'PURCHASE',
  AUTO_TOP_UP = 'AUTO_TOP_UP',
  BONUS = 'BONUS',
  DEDUCTION = 'DEDUCTION',
  MANUAL = 'MANUAL',
  TRANSFER_IN = 'TRANSFER_IN',
  TRANSFER_OUT = 'TRANSFER_OUT',
  REFUND = 'REFUND',
  /** A metered extra (traces, …) beyond the workspace's monthly allowance. */
  METERED = 'METERED',
  /** An enterprise invoice paid: each wallet gets back what its usage was billed. */
  INVOICE_PAYMENT = 'INVOICE_PAYMENT',
}

/**
 * One ledger row. Rows are inserted only by the ledger service and never updated or deleted
 * (a database trigger refuses both), so every balance is provable from them.
 */
@Entity({ tableName: 'transactions', readonly: true })
export class Transaction {
  @PrimaryKey({ type: 'text' })
  id!: string;

  @ManyToOne(() => Wallet)
  wallet!: Wallet;

  @ManyToOne(() => Organization)
  organization!: Organization;

  @Enum({ items: () => TransactionType, type: 'text' })
  type!: TransactionType;

  /** Signed nano-USD: credits positive, debits negative. */
  @Property({ type: new BigIntType('bigint') })
  amount!: bigint;

  @Property({ type: new BigIntType('bigint') })
  balanceAfter!: bigint;

  @Property({ type: 'text' })
  description!: string;

  /** The other wallet of a transfer. */
  @ManyToOne(() => Wallet, { nullable: true })
  counterpartyWallet?: Wallet | null;

  /** Who caused it: `admin`, `member:<id>` or `gateway`. */
  @Property({ type: 'text' })
  actor!: string;

  @Property({ type: 'text', nullable: true })
  idempotencyKey?: string | null;

  /** For DEDUCTION rows: what the usage was. */
  @Property({ type: 'text', nullable: true })
  apiKeyId?: string | null;

  @Property({ type: 'text', nullable: true })
  identityId?: string | null;

  @Property({ type: 'text', nullable: true })
  projectId?: string | null;

  @Property({ type: 'text', nullable: true })
  model?: string | null;

  /** The member who owned the key when the call was made; null for keys without an owner. */
  @Property({ type: 'text', nullable: true })
  memberId?: string | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  inputTokens?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  outputTokens?: bigint | null;

  @Property({ type: 'text', nullable: true })
  holdId?: string | null;

  /** For a model call's row: how it was routed, what it used beyond input and output, and how its cost splits. */
  @Property({ type: 'text', nullable: true })
  routingMode?: string | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  cachedInputTokens?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  cacheWriteTokens?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  reasoningTokens?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  images?: bigint | null;

  /** The amount = provider cost + markup. */
  @Property({ type: new BigIntType('bigint'), nullable: true })
  providerCost?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  markup?: bigint | null;

  /** The provider reported the cost (bring-your-own-key, tools); else the catalog priced the usage. */
  @Property({ type: 'boolean', nullable: true })
  providerReported?: boolean | null;

  /** For a METERED row: the meter, and the units it charged (those of one report beyond the allowance). */
  @Property({ type: 'text', nullable: true })
  meter?: string | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  meterQuantity?: bigint | null;

  @Property({ type: 'timestamptz', length: 3 })
  createdAt!: Date;
}
