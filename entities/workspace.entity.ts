import { Entity, ManyToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';

@Entity({ tableName: 'workspaces' })
export class Workspace {
  @PrimaryKey({ type: 'text' })
  id: string = newId('workspace');

  @ManyToOne(() => Organization)
  organization!: Organization;

  @Property({ type: 'text' })
  name!: string;

  /** Added to model prices, in basis points: 1000 is 10%. */
  @Property({ type: 'integer', defaultRaw: '1000' })
  markupBps: number & Opt = 1000;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
