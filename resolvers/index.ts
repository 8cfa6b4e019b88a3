import { AlertResolver } from './alert/alert.resolver';
import { ApiKeyResolver } from './api-key/api-key.resolver';
import { BillingProfileResolver } from './billing-profile/billing-profile.resolver';
import { BudgetResolver, TokenBudgetResolver } from './budget/budget.resolver';
import { EnterpriseInvoiceResolver } from './enterprise-invoice/enterprise-invoice.resolver';
import { GatewayCapturePayloadResolver, GatewayDebitPayloadResolver, GatewayMeterReportPayloadResolver, GatewayResolver } from './gateway/gateway.resolver';
import { IdentityResolver } from './identity/identity.resolver';
import { LowBalanceThresholdResolver } from './low-balance-threshold/low-balance-threshold.resolver';
import { MemberResolver } from './member/member.resolver';
import { MeterResolver } from './meter/meter.resolver';
import { ModelPriceResolver } from './model-price/model-price.resolver';
import { NegotiatedPriceResolver } from './negotiated-price/negotiated-price.resolver';
import { OrganizationResolver } from './organization/organization.resolver';
import { PaymentMethodResolver } from './payment-method/payment-method.resolver';
import { ProjectResolver } from './project/project.resolver';
import { PurchaseResolver } from './purchase/purchase.resolver';
import { RoutingMarkupResolver } from './routing-markup/routing-markup.resolver';
import { TransactionResolver } from './transaction/transaction.resolver';
import { UsageReportResolver } from './usage-report/usage-report.resolver';
import { ViewerResolver } from './viewer/viewer.resolver';
import { AutoTopUpEventResolver, WalletBalanceChangeResolver, WalletResolver } from './wallet/wallet.resolver';
import { WorkspaceResolver } from './workspace/workspace.resolver';

/** One resolver class per GraphQL type, in its type's folder (the root queries and the gateway's mutations have none). */
export const RESOLVERS = [
  ViewerResolver,
  UsageReportResolver,
  OrganizationResolver,
  EnterpriseInvoiceResolver,
  BillingProfileResolver,
  MemberResolver,
  WorkspaceResolver,
  ProjectResolver,
  WalletResolver,
  WalletBalanceChangeResolver,
  AutoTopUpEventResolver,
  TransactionResolver,
  GatewayResolver,
  GatewayDebitPayloadResolver,
  GatewayMeterReportPayloadResolver,
  GatewayCapturePayloadResolver,
  ApiKeyResolver,
  IdentityResolver,
  BudgetResolver,
  TokenBudgetResolver,
  ModelPriceResolver,
  RoutingMarkupResolver,
  MeterResolver,
  NegotiatedPriceResolver,
  PurchaseResolver,
  PaymentMethodResolver,
  AlertResolver,
  LowBalanceThresholdResolver,
] as const;
