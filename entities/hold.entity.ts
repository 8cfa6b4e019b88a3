import { BigIntType, Entity, Enum, ManyToOne, PrimaryKey, Property } from '@mikro-orm/core';
import { ApiKey } from './api-key.entity';
import { Identity } from './identity.entity';
import { Organization } from './organization.entity';
import { Project } from './project.entity';
import { Wallet } from './wallet.entity';

export enum HoldStatus {
  ACTIVE = 'ACTIVE',
  CAPTURED = 'CAPTURED',
  RELEASED = 'RELEASED',
  EXPIRED = 'EXPIRED',
}

/** Credits reserved for one in-flight gateway request; written only by the debit engine. */
@Entity({ tableName: 'holds', readonly: true })
export class Hold {
  @PrimaryKey({ type: 'text' })
  id!: string;

  @ManyToOne(() => Organization)
  organization!: Organization;

  @ManyToOne(() => Wallet)
  wallet!: Wallet;

  @ManyToOne(() => ApiKey)
  apiKey!: ApiKey;

  @ManyToOne(() => Identity, { nullable: true })
  identity?: Identity | null;

  @ManyToOne(() => Project, { nullable: true })
  project?: Project | null;

  @Property({ type: 'text' })
  model!: string;

  /** The price and markup at authorization, which the capture bills. */
  @Property({ type: new BigIntType('bigint') })
  inputPrice!: bigint;

  @Property({ type: new BigIntType('bigint') })
  outputPrice!: bigint;

  @Property({ type: 'integer' })
  markupBps!: number;

  @Property({ type: new BigIntType('bigint') })
  amount!: bigint;

  @Property({ type: new BigIntType('bigint') })
  tokens!: bigint;

  @Enum({ items: () => HoldStatus, type: 'text' })
  status!: HoldStatus;

  @Property({ type: 'timestamptz', length: 3 })
  createdAt!: Date;

  @Property({ type: 'timestamptz', length: 3 })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', length: 3, nullable: true })
  settledAt?: Date | null;
}
