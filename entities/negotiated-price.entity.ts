import { BigIntType, Entity, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { OptionalPriceComponents } from './model-price.entity';
import { Organization } from './organization.entity';

/**
 * Prices agreed with an organization, a history: each row is in force from `effectiveFrom` until a
 * later row of its scope (one model, or all models). A discount off the catalog, a fixed price of
 * one model, or neither: the agreement for that scope ended.
 */
@Entity({ tableName: 'negotiated_prices' })
export class NegotiatedPrice extends OptionalPriceComponents {
  @PrimaryKey({ type: 'text' })
  id: string = newId('negotiatedPrice');

  @ManyToOne(() => Organization)
  organization!: Organization;

  /** Null: every model. */
  @Property({ type: 'text', nullable: true })
  model?: string | null;

  @Property({ type: 'integer', nullable: true })
  discountBps?: number | null;

  /** With `outputPrice`, a fixed price of the model (the optional components beside them). */
  @Property({ type: new BigIntType('bigint'), nullable: true })
  inputPrice?: bigint | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  outputPrice?: bigint | null;

  @Property({ type: 'timestamptz', length: 3 })
  effectiveFrom!: Date;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
