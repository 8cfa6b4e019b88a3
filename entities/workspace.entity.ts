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

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
