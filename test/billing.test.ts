import { type PaymentsServer, startPaymentsServer } from '../src/dev/payments-server';
import { createStripe } from '../src/payments/stripe';
import { startTestApp, type TestApp } from './support/app';
import { codes, createMemberWithToken, createOrganization, type OrgFixture } from './support/fixtures';

const PROFILE = `{ organization { billingProfile { name address { line1 line2 city postalCode state country } taxIds { id country type value } } } }`;
const UPDATE = `mutation ($input: BillingProfileUpdateInput!) {
  billingProfileUpdate(input: $input) { organization { id billingProfile { name address { line1 line2 city postalCode state country } } } userErrors { field code message } }
}`;
const TAX_ID_ADD = `mutation ($input: TaxIdAddInput!) { taxIdAdd(input: $input) { taxId { id country type value } userErrors { field code message } } }`;
const TAX_ID_REMOVE = `mutation ($input: TaxIdRemoveInput!) { taxIdRemove(input: $input) { removedId userErrors { code field message } } }`;
const ADDRESS = { line1: 'Alexanderplatz 1', city: 'Berlin', postalCode: '10178', country: 'de' };

/** Two servers on the run's database: one without payments configured, one talking to the Stripe stand-in. */
let local: TestApp;
let paid: TestApp;
let stripe: PaymentsServer;

beforeAll(async () => {
  stripe = await startPaymentsServer();
  local = await startTestApp();
  paid = await startTestApp({ stripe: createStripe({ STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_API_BASE: stripe.url }) });
});

afterAll(async () => {
  await Promise.all([local?.close(), paid?.close()]);
  await stripe?.close();
});

const profileOf = async (app: TestApp, org: OrgFixture) => (await app.data(PROFILE, {}, org.ownerToken)).organization.billingProfile;

describe('billing profile without payments configured', () => {
  it('is empty at first, then keeps the name, address and tax IDs', async () => {
    const org = await createOrganization(local);
    expect(await profileOf(local, org)).toEqual({ name: null, address: null, taxIds: [] });
    const { billingProfileUpdate } = await local.data(UPDATE, { input: { name: ' ACME GmbH ', address: { ...ADDRESS, line2: '' } } }, org.ownerToken);
    expect(billingProfileUpdate.userErrors).toEqual([]);
    expect(billingProfileUpdate.organization.billingProfile).toEqual({
      name: 'ACME GmbH',
      address: { line1: 'Alexanderplatz 1', line2: null, city: 'Berlin', postalCode: '10178', state: null, country: 'DE' },
    });
    const { taxIdAdd } = await local.data(TAX_ID_ADD, { input: { country: 'DE', type: 'eu_vat', value: 'DE123456789' } }, org.ownerToken);
    expect(taxIdAdd).toMatchObject({ taxId: { country: 'DE', type: 'eu_vat', value: 'DE123456789' }, userErrors: [] });
    expect((await profileOf(local, org)).taxIds).toEqual([taxIdAdd.taxId]);
    const { taxIdRemove } = await local.data(TAX_ID_REMOVE, { input: { taxIdId: taxIdAdd.taxId.id } }, org.ownerToken);
    expect(taxIdRemove).toEqual({ removedId: taxIdAdd.taxId.id, userErrors: [] });
    expect((await profileOf(local, org)).taxIds).toEqual([]);
  });

  it('refuses bad input with the field at fault, and changes nothing', async () => {
    const org = await createOrganization(local);
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ name: '', address: ADDRESS }, ['input', 'name']],
      [{ name: 'ACME', address: { ...ADDRESS, country: 'Germany' } }, ['input', 'address', 'country']],
      [{ name: 'ACME', address: { ...ADDRESS, postalCode: ' ' } }, ['input', 'address', 'postalCode']],
    ];
    for (const [input, field] of cases) {
      const { billingProfileUpdate } = await local.data(UPDATE, { input }, org.ownerToken);
      expect(billingProfileUpdate).toMatchObject({ organization: null, userErrors: [{ field, code: 'INVALID' }] });
    }
    const { taxIdAdd } = await local.data(TAX_ID_ADD, { input: { country: 'DE', type: 'VAT number', value: 'x' } }, org.ownerToken);
    expect(taxIdAdd.userErrors).toEqual([expect.objectContaining({ field: ['input', 'type'], code: 'INVALID' })]);
    expect(await profileOf(local, org)).toEqual({ name: null, address: null, taxIds: [] });
  });

  it('refuses the same tax ID twice, and a tax ID of another organization', async () => {
    const org = await createOrganization(local);
    const other = await createOrganization(local);
    const input = { country: 'GB', type: 'gb_vat', value: 'GB123456789' };
    const { taxIdAdd } = await local.data(TAX_ID_ADD, { input }, org.ownerToken);
    expect((await local.data(TAX_ID_ADD, { input }, org.ownerToken)).taxIdAdd.userErrors).toEqual([expect.objectContaining({ code: 'TAKEN' })]);
    expect((await local.data(TAX_ID_REMOVE, { input: { taxIdId: taxIdAdd.taxId.id } }, other.ownerToken)).taxIdRemove.userErrors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'taxIdId'] }),
    ]);
    expect((await profileOf(local, org)).taxIds).toHaveLength(1);
  });

  it('is for owners and admins: a member or viewer is refused', async () => {
    const org = await createOrganization(local);
    for (const role of ['MEMBER', 'VIEWER']) {
      const { token } = await createMemberWithToken(local, org.ownerToken, role);
      expect(codes(await local.gql(UPDATE, { input: { name: 'x', address: ADDRESS } }, token))).toEqual(['FORBIDDEN']);
      expect(codes(await local.gql(TAX_ID_ADD, { input: { country: 'DE', type: 'eu_vat', value: 'DE1' } }, token))).toEqual(['FORBIDDEN']);
    }
    const admin = await createMemberWithToken(local, org.ownerToken, 'ADMIN');
    expect((await local.data(UPDATE, { input: { name: 'By admin', address: ADDRESS } }, admin.token)).billingProfileUpdate.userErrors).toEqual([]);
  });
});

describe('billing profile kept in sync with a Stripe customer', () => {
  const customerOf = (organizationId: string) => [...stripe.customers.values()].filter((customer) => customer.metadata.organization_id === organizationId);

  it('creates one customer on the first update, then updates that one', async () => {
    const org = await createOrganization(paid);
    await paid.data(UPDATE, { input: { name: 'ACME GmbH', address: ADDRESS } }, org.ownerToken);
    await paid.data(UPDATE, { input: { name: 'ACME SE', address: { ...ADDRESS, line1: 'Unter den Linden 5' } } }, org.ownerToken);
    const customers = customerOf(org.organizationId);
    expect(customers).toHaveLength(1);
    expect(customers[0]).toMatchObject({ name: 'ACME SE', address: { line1: 'Unter den Linden 5', city: 'Berlin', postal_code: '10178', country: 'DE' } });
  });

  it('adds and removes tax IDs on the customer, and pushes those added before it existed', async () => {
    const org = await createOrganization(paid);
    const early = await local.data(TAX_ID_ADD, { input: { country: 'DE', type: 'eu_vat', value: 'DE111111111' } }, org.ownerToken);
    expect(early.taxIdAdd.userErrors).toEqual([]);
    const { taxIdAdd } = await paid.data(TAX_ID_ADD, { input: { country: 'US', type: 'us_ein', value: '12-3456789' } }, org.ownerToken);
    expect(taxIdAdd.userErrors).toEqual([]);
    const [customer] = customerOf(org.organizationId);
    expect(customer.tax_ids.map((taxId: { type: string; value: string }) => [taxId.type, taxId.value])).toEqual([
      ['eu_vat', 'DE111111111'],
      ['us_ein', '12-3456789'],
    ]);
    await paid.data(TAX_ID_REMOVE, { input: { taxIdId: taxIdAdd.taxId.id } }, org.ownerToken);
    expect(customer.tax_ids.map((taxId: { value: string }) => taxId.value)).toEqual(['DE111111111']);
    expect((await profileOf(paid, org)).taxIds.map((taxId: { value: string }) => taxId.value)).toEqual(['DE111111111']);
  });

  it("answers Stripe's refusal of a tax ID as a user error and stores nothing", async () => {
    const org = await createOrganization(paid);
    const { taxIdAdd } = await paid.data(TAX_ID_ADD, { input: { country: 'DE', type: 'eu_vat', value: 'INVALID' } }, org.ownerToken);
    expect(taxIdAdd).toMatchObject({ taxId: null, userErrors: [{ field: ['input', 'value'], code: 'PAYMENT_PROVIDER_ERROR' }] });
    expect(taxIdAdd.userErrors[0].message).toMatch(/Invalid value for eu_vat/);
    expect((await profileOf(paid, org)).taxIds).toEqual([]);
  });
});
