import { Entity, Enum, ManyToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Organization } from './organization.entity';

export enum MemberRole {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
  VIEWER = 'VIEWER',
}

@Entity({ tableName: 'members' })
export class Member {
  @PrimaryKey({ type: 'text' })
  id: string = newId('member');

  @ManyToOne(() => Organization)
  organization!: Organization;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  email!: string;

  @Enum({ items: () => MemberRole, type: 'text' })
  role!: MemberRole;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  /** Removed members keep their row so the ledger's references stay readable. */
  @Property({ type: 'timestamptz', length: 3, nullable: true })
  removedAt?: Date | null;
}
