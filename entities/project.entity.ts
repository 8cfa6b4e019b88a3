import { BigIntType, Entity, Enum, ManyToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Period } from '../src/limits/periods';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';
import { Workspace } from './workspace.entity';

@Entity({ tableName: 'projects' })
export class Project {
  @PrimaryKey({ type: 'text' })
  id: string = newId('project');

  @ManyToOne(() => Workspace)
  workspace!: Workspace;

  @ManyToOne(() => Organization)
  organization!: Organization;

  @Property({ type: 'text' })
  name!: string;

  /** Nano-USD per budget period; null: no budget. */
  @Property({ type: new BigIntType('bigint'), nullable: true })
  budget?: bigint | null;

  @Enum({ items: () => Period, type: 'text', nullable: true })
  budgetPeriod?: Period | null;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
