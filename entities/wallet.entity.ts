import { BigIntType, Entity, ManyToOne, OneToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';
import { Workspace } from './workspace.entity';

/**
 * The one credit wallet of a workspace. `balance` is written only by the ledger service, by
 * atomic SQL, and always equals the sum of the wallet's transactions.
 */
@Entity({ tableName: 'wallets' })
export class Wallet {
  @PrimaryKey({ type: 'text' })
  id: string = newId('wallet');

  @OneToOne(() => Workspace, { owner: true, unique: true })
  workspace!: Workspace;

  @ManyToOne(() => Organization)
  organization!: Organization;

  @Property({ type: new BigIntType('bigint'), defaultRaw: '0', persist: false })
  balance: bigint & Opt = 0n;

  /** Sum of the active holds; the available balance is `balance - held`. */
  @Property({ type: new BigIntType('bigint'), defaultRaw: '0', persist: false })
  held: bigint & Opt = 0n;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'boolean', defaultRaw: 'false' })
  autoTopUpEnabled: boolean & Opt = false;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  autoTopUpThreshold?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  autoTopUpAmount?: bigint | null;

  /** Why tollgate turned auto top-up off, for the dashboard; cleared when it is turned on again. */
  @Property({ type: 'text', nullable: true })
  autoTopUpDisabledReason?: string | null;

  /** Failed auto top-up attempts in a row. */
  @Property({ type: 'integer', defaultRaw: '0' })
  autoTopUpFailures: number & Opt = 0;
}
