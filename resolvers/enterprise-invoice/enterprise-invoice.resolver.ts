import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { type EnterpriseInvoice, EnterpriseInvoiceStatus } from '../../entities';
import type { Context } from '../../src/graphql/context';
import { EnterpriseInvoiceType } from './enterprise-invoice.types';

@Resolver(() => EnterpriseInvoiceType)
export class EnterpriseInvoiceResolver {
  @FieldResolver(() => String, { description: 'The month invoiced, YYYY-MM' })
  month(@Root() invoice: EnterpriseInvoice): string {
    return invoice.month.slice(0, 7);
  }

  @FieldResolver(() => Boolean, { description: 'OPEN after its due date: the gateway refuses the organization\'s calls (INVOICE_PAST_DUE) until it is paid' })
  pastDue(@Root() invoice: EnterpriseInvoice, @Ctx() ctx: Context): boolean {
    return invoice.status === EnterpriseInvoiceStatus.OPEN && invoice.dueAt != null && invoice.dueAt.getTime() <= ctx.now().getTime();
  }
}
