import { AlertResolver, LowBalanceThresholdResolver, OrganizationAlertsResolver, WalletLowBalanceThresholdsResolver } from './alert/alert.resolver';
import { BillingResolver } from './billing-profile/billing-profile.resolver';
import { BudgetResolver, TokenBudgetResolver } from './budget/budget.types';
import { GatewayCapturePayloadResolver, GatewayDebitPayloadResolver, GatewayResolver } from './gateway/gateway.resolver';
import { ApiKeyResolver } from './api-key/api-key.resolver';
import { IdentityResolver } from './identity/identity.resolver';
import { MemberResolver } from './member/member.resolver';
import { ModelPriceResolver } from './model-price/model-price.resolver';
import { OrganizationResolver } from './organization/organization.resolver';
import { AutoTopUpEventResolver, AutoTopUpResolver, OrganizationPurchasesResolver, PaymentMethodResolver, PurchaseResolver } from './purchase/purchase.resolver';
import { UsageReportResolver, WalletSpendProjectionResolver } from './usage-report/usage-report.resolver';
import { ViewerResolver } from './viewer/viewer.resolver';
import { TransactionResolver, WalletBalanceChangeResolver, WalletResolver } from './wallet/wallet.resolver';
import { ProjectResolver, WorkspaceResolver } from './workspace/workspace.resolver';

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
