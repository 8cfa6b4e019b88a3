import { AlertResolver, LowBalanceThresholdResolver, OrganizationAlertsResolver, WalletLowBalanceThresholdsResolver } from './alert.resolver';
import { BillingResolver } from './billing.resolver';
import { BudgetResolver, TokenBudgetResolver } from './budget.types';
import { GatewayCapturePayloadResolver, GatewayDebitPayloadResolver, GatewayResolver } from './gateway.resolver';
import { ApiKeyResolver } from './api-key.resolver';
import { IdentityResolver } from './identity.resolver';
import { MemberResolver } from './member.resolver';
import { ModelPriceResolver } from './model-price.resolver';
import { OrganizationResolver } from './organization.resolver';
import { AutoTopUpEventResolver, AutoTopUpResolver, OrganizationPurchasesResolver, PaymentMethodResolver, PurchaseResolver } from './purchase.resolver';
import { UsageReportResolver, WalletSpendProjectionResolver } from './usage-report.resolver';
import { ViewerResolver } from './viewer.resolver';
import { TransactionResolver, WalletBalanceChangeResolver, WalletResolver } from './wallet.resolver';
import { ProjectResolver, WorkspaceResolver } from './workspace.resolver';

export const RESOLVERS = [
  ViewerResolver,
  UsageReportResolver,
  WalletSpendProjectionResolver,
  OrganizationResolver,
  MemberResolver,
  WorkspaceResolver,
  WalletResolver,
  TransactionResolver,
  WalletBalanceChangeResolver,
  GatewayResolver,
  GatewayDebitPayloadResolver,
  GatewayCapturePayloadResolver,
  ProjectResolver,
  ApiKeyResolver,
  BudgetResolver,
  TokenBudgetResolver,
  IdentityResolver,
  ModelPriceResolver,
  BillingResolver,
  PurchaseResolver,
  OrganizationPurchasesResolver,
  PaymentMethodResolver,
  AutoTopUpResolver,
  AutoTopUpEventResolver,
  AlertResolver,
  LowBalanceThresholdResolver,
  OrganizationAlertsResolver,
  WalletLowBalanceThresholdsResolver,
] as const;
