import { Entity, ManyToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
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

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
