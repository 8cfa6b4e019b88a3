import { Entity, ManyToOne, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { newId } from '../src/ids';
import { Member } from './member.entity';
import { Organization } from './organization.entity';

/** A member's bearer token. Only its SHA-256 is stored; the secret is shown once. */
@Entity({ tableName: 'access_tokens' })
export class AccessToken {
  @PrimaryKey({ type: 'text' })
  id: string = newId('accessToken');

  @ManyToOne(() => Member)
  member!: Member;

  @ManyToOne(() => Organization)
  organization!: Organization;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text', unique: true, hidden: true })
  tokenHash!: string;

  /** The first characters of the secret, to tell tokens apart in a list. */
  @Property({ type: 'text' })
  prefix!: string;

  @Property({ type: 'timestamptz', length: 3, defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', length: 3, nullable: true })
  revokedAt?: Date | null;
}
