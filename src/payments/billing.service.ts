import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import { type BillingAddress, Organization, TaxId } from '../../entities';
import type { MemberActor } from '../actor';
import { inTransaction } from '../db/transaction';
import type { Deps } from '../deps';
import { DomainError, inputPath, UserErrorCode } from '../errors';
import { requireText } from '../validation';
import { stripeCall, unlessMissing } from './stripe';

export interface BillingAddressInput {
  line1: string;
  line2?: string | null;
  city: string;
  postalCode: string;
  state?: string | null;
  country: string;
}

export interface BillingProfileInput {
  name: string;
  address: BillingAddressInput;
}

export interface TaxIdInput {
  country: string;
  type: string;
  value: string;
}

const COUNTRY = /^[A-Z]{2}$/;
/** Stripe's tax ID types look like eu_vat, gb_vat, us_ein, ca_gst_hst; Stripe checks the rest. */
const TAX_ID_TYPE = /^[a-z]{2}_[a-z_]{2,20}$/;

function requireCountry(value: string, field: string): string {
  const country = value.trim().toUpperCase();
  if (!COUNTRY.test(country)) throw new DomainError(UserErrorCode.INVALID, `${field} must be a two-letter ISO country code`, inputPath(field));
  return country;
}

function optionalText(value: string | null | undefined, field: string, maxLength = 200): string | null {
  return value == null || value.trim() === '' ? null : requireText(value, field, maxLength);
}

function address(input: BillingAddressInput): BillingAddress {
  return {
    line1: requireText(input.line1, 'address.line1'),
    line2: optionalText(input.line2, 'address.line2'),
    city: requireText(input.city, 'address.city', 100),
    postalCode: requireText(input.postalCode, 'address.postalCode', 20),
    state: optionalText(input.state, 'address.state', 100),
    country: requireCountry(input.country, 'address.country'),
  };
}

function stripeAddress(value: BillingAddress): Stripe.AddressParam {
  return {
    line1: value.line1,
    line2: value.line2 ?? '',
    city: value.city,
    postal_code: value.postalCode,
    state: value.state ?? '',
    country: value.country,
  };
}

/**
 * The organization's Stripe customer, created on first need with its profile and tax IDs. The
 * creation carries an idempotency key per organization, so concurrent first uses make one
 * customer.
 */
export async function stripeCustomer(em: EntityManager, stripe: Stripe, organizationId: string): Promise<string> {
  // Read anew: another request (or an earlier step of this one) may have made the customer since.
  const organization = await em.findOneOrFail(Organization, organizationId, { refresh: true });
  if (organization.stripeCustomerId) return organization.stripeCustomerId;
  const customer = await stripeCall(() =>
    stripe.customers.create(
      {
        name: organization.billingName ?? organization.name,
        ...(organization.billingAddress && { address: stripeAddress(organization.billingAddress) }),
        metadata: { organization_id: organization.id },
      },
      { idempotencyKey: `tollgate-customer-${organization.id}` },
    ),
  );
  await em.nativeUpdate(Organization, { id: organization.id, stripeCustomerId: null }, { stripeCustomerId: customer.id });
  const unsynced = await em.find(TaxId, { organization: organization.id, stripeTaxId: null }, { orderBy: { createdAt: 'asc' } });
  for (const taxId of unsynced) {
    const created = await stripeCall(() =>
      stripe.customers.createTaxId(
        customer.id,
        { type: taxId.type as Stripe.CustomerCreateTaxIdParams.Type, value: taxId.value },
        // Two first uses at once push the same tax IDs: one copy in Stripe.
        { idempotencyKey: `tollgate-tax-id-${taxId.id}` },
      ),
    );
    await em.nativeUpdate(TaxId, { id: taxId.id }, { stripeTaxId: created.id });
  }
  return customer.id;
}

/**
 * Refuses a charge while the organization has no billing name and address: every purchase is
 * invoiced, and an invoice needs whom it is addressed to. Reads only, so the refusal changes nothing.
 */
export async function requireBillingProfile(em: EntityManager, organizationId: string, message: string): Promise<void> {
  const organization = await em.findOneOrFail(Organization, organizationId);
  if (!organization.billingName || !organization.billingAddress) throw new DomainError(UserErrorCode.BILLING_PROFILE_REQUIRED, message);
}

/**
 * Sets who invoices are addressed to. With payments configured, Stripe's customer is updated
 * first: a refusal there changes nothing here.
 */
export async function updateBillingProfile({ em, stripe }: Pick<Deps, 'em' | 'stripe'>, { organizationId }: MemberActor, input: BillingProfileInput): Promise<Organization> {
  const name = requireText(input.name, 'name');
  const billingAddress = address(input.address);
  if (stripe) {
    const customerId = await stripeCustomer(em, stripe, organizationId);
    await stripeCall(() => stripe.customers.update(customerId, { name, address: stripeAddress(billingAddress) }), ['input', 'address']);
  }
  return inTransaction(em, async (tx) => {
    const organization = await tx.findOneOrFail(Organization, organizationId);
    organization.billingName = name;
    organization.billingAddress = billingAddress;
    await tx.flush();
    return organization;
  });
}

export async function addTaxId({ em, stripe }: Pick<Deps, 'em' | 'stripe'>, { organizationId }: MemberActor, input: TaxIdInput): Promise<TaxId> {
  const country = requireCountry(input.country, 'country');
  const type = input.type.trim().toLowerCase();
  if (!TAX_ID_TYPE.test(type)) throw new DomainError(UserErrorCode.INVALID, 'type must be a Stripe tax ID type such as eu_vat or us_ein', ['input', 'type']);
  const value = requireText(input.value, 'value', 100);
  const taken = () => new DomainError(UserErrorCode.TAKEN, 'This tax ID is already on the billing profile', ['input', 'value']);
  if (await em.count(TaxId, { organization: organizationId, type, value })) throw taken();
  let stripeTaxId: string | null = null;
  if (stripe) {
    const customerId = await stripeCustomer(em, stripe, organizationId);
    stripeTaxId = (await stripeCall(() => stripe.customers.createTaxId(customerId, { type: type as Stripe.CustomerCreateTaxIdParams.Type, value }), ['input', 'value'])).id;
  }
  try {
    return await inTransaction(em, async (tx) => {
      const taxId = tx.create(TaxId, { organization: organizationId, country, type, value, stripeTaxId });
      await tx.flush();
      return taxId;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw taken();
    throw error;
  }
}

/** Removes a tax ID here and from the Stripe customer; one already gone there is fine. */
export async function removeTaxId({ em, stripe }: Pick<Deps, 'em' | 'stripe'>, { organizationId }: MemberActor, { taxIdId }: { taxIdId: string }): Promise<string> {
  const taxId = await em.findOne(TaxId, { id: taxIdId, organization: organizationId }, { populate: ['organization'] });
  if (!taxId) throw new DomainError(UserErrorCode.NOT_FOUND, 'No such tax ID on this billing profile', ['input', 'taxIdId']);
  const customerId = taxId.organization.stripeCustomerId;
  if (stripe && customerId && taxId.stripeTaxId) {
    await stripe.customers.deleteTaxId(customerId, taxId.stripeTaxId).catch(unlessMissing);
  }
  await em.nativeDelete(TaxId, { id: taxId.id });
  return taxId.id;
}
