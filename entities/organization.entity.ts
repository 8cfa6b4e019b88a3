import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { newId } from '../src/ids';

/** A customer of the gateway operator: owns members and workspaces. */
@Entity({ tableName: 'organizations' })
export class Organization {
  @PrimaryKey({ type: 'text' })
  id: string = newId('organization');

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
