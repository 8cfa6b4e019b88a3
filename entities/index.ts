import { AccessToken } from './access-token.entity';
import { Alert } from './alert.entity';
import { EnterpriseInvoice } from './enterprise-invoice.entity';
import { ApiKey } from './api-key.entity';
import { Hold } from './hold.entity';
import { Identity } from './identity.entity';
import { LowBalanceThreshold } from './low-balance-threshold.entity';
import { ModelPrice } from './model-price.entity';
import { NegotiatedPrice } from './negotiated-price.entity';
import { Member } from './member.entity';
import { Organization } from './organization.entity';
import { PaymentMethod } from './payment-method.entity';
import { Project } from './project.entity';
import { Purchase } from './purchase.entity';
import { TaxId } from './tax-id.entity';
import { Transaction } from './transaction.entity';
import { Wallet } from './wallet.entity';
import { Workspace } from './workspace.entity';

export { AccessToken, Alert, ApiKey, EnterpriseInvoice, Hold, Identity, LowBalanceThreshold, Member, ModelPrice, NegotiatedPrice, Organization, PaymentMethod, Project, Purchase, TaxId, Transaction, Wallet, Workspace };
export type { BillingAddress } from './organization.entity';
export { MemberRole } from './member.entity';
export { TransactionType } from './transaction.entity';
export { HoldStatus } from './hold.entity';
export { PurchaseKind, PurchaseStatus } from './purchase.entity';
export { AlertKind, AlertWebhookStatus } from './alert.entity';
export { EnterpriseInvoiceStatus, type EnterpriseInvoiceItem } from './enterprise-invoice.entity';

export const ENTITIES = [Organization, Member, AccessToken, Workspace, Wallet, Project, Transaction, ApiKey, Identity, ModelPrice, NegotiatedPrice, Hold, TaxId, Purchase, PaymentMethod, Alert, LowBalanceThreshold, EnterpriseInvoice];
