import { BigIntType, Entity, Index, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';

/**
 * Prices agreed with an organization, a history: each row is in force from `effectiveFrom` until a
 * later row of its scope (one model, or all models). A discount off the catalog, a fixed price of
 * one model, or neither: the agreement for that scope ended.
 */
@Entity({ tableName: 'negotiated_prices' })
@Index({ properties: ['organization', 'model', 'effectiveFrom'] })
export class NegotiatedPrice {
  @PrimaryKey({ type: 'text' })
  id: string = newId('negotiatedPrice');

  @ManyToOne(() => Organization)
  organization!: Organization;

  /** Null: every model. */
  @Property({ type: 'text', nullable: true })
  model?: string | null;

  @Property({ type: 'integer', nullable: true })
  discountBps?: number | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  inputPrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  outputPrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  cachedInputPrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  cacheWritePrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  reasoningPrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  requestPrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  imagePrice?: bigint | null;

  @Property({ type: 'timestamptz', length: 3 })
  effectiveFrom!: Date;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
