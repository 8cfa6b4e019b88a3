import { BigIntType, Entity, Enum, ManyToOne, type Opt, PrimaryKey, Property } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Period } from '../src/limits/periods';
import { Organization } from './organization.entity';
import { Workspace } from './workspace.entity';

/** An end user of the customer's app, known by the customer's own id. */
@Entity({ tableName: 'identities' })
export class Identity {
  @PrimaryKey({ type: 'text' })
  id: string = newId('identity');

  @ManyToOne(() => Organization)
  organization!: Organization;

  @ManyToOne(() => Workspace)
  workspace!: Workspace;

  @Property({ type: 'text' })
  externalId!: string;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  budget?: bigint | null;

  @Enum({ items: () => Period, type: 'text', nullable: true })
  budgetPeriod?: Period | null;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
