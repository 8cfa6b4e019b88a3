import { AccessToken } from './access-token.entity';
import { Member } from './member.entity';
import { Organization } from './organization.entity';
import { Project } from './project.entity';
import { Transaction } from './transaction.entity';
import { Wallet } from './wallet.entity';
import { Workspace } from './workspace.entity';

export { AccessToken, Member, Organization, Project, Transaction, Wallet, Workspace };
export { MemberRole } from './member.entity';
export { TransactionType } from './transaction.entity';

export const ENTITIES = [Organization, Member, AccessToken, Workspace, Wallet, Project, Transaction];
