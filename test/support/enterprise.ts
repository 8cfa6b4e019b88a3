import { ADMIN_TOKEN, type GraphQLClient } from './app';
import { expectNoUserErrors } from './fixtures';

export const CREDIT_TERMS_SET = `mutation ($input: OrganizationCreditTermsSetInput!) {
  organizationCreditTermsSet(input: $input) { organization { id creditTerms { creditLimit netTermsDays } } userErrors { field code message } }
}`;

/** Puts the organization on invoice, as the platform admin: a credit line of `creditLimit` per wallet. */
export async function setCreditTerms(client: GraphQLClient, organizationId: string, creditLimit: string, netTermsDays?: number) {
  const { organizationCreditTermsSet } = await client.data(CREDIT_TERMS_SET, { input: { organizationId, creditLimit, netTermsDays } }, ADMIN_TOKEN);
  expectNoUserErrors(organizationCreditTermsSet);
  return organizationCreditTermsSet.organization;
}
