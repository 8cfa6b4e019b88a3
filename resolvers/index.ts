import { MemberResolver } from './member.resolver';
import { OrganizationResolver } from './organization.resolver';
import { ViewerResolver } from './viewer.resolver';
import { TransactionResolver, WalletResolver } from './wallet.resolver';
import { WorkspaceResolver } from './workspace.resolver';

export const RESOLVERS = [
  ViewerResolver,
  OrganizationResolver,
  MemberResolver,
  WorkspaceResolver,
  WalletResolver,
  TransactionResolver,
] as const;
