/**
 * `npm run payments:local`: the local payments server for development, and the commands with
 * which a card holder saves a card or passes 3-D Secure from a terminal.
 */
import { z } from 'zod';
import { deliveryLine } from './payments-pages';
import type { ActionResult } from './payments-objects';
import { startPaymentsServer } from './payments-server';

const USAGE = `Usage: npm run payments:local [-- <command>]

  (no command)                     start the payments server
  save-card <seti_…> [test card]   save a card through a SetupIntent (its id or client secret), pm_card_visa unless named
  complete <pi_…>                  pass 3-D Secure for a PaymentIntent (its id or client secret)
  fail <pi_…>                      fail 3-D Secure for a PaymentIntent
  pay-invoice <in_…>               pay a sent invoice, as the customer on its page

PAYMENTS_LOCAL_PORT (default 12111): where the server listens and the commands find it.
PAYMENTS_LOCAL_WEBHOOK_URL (default http://127.0.0.1:4000/webhooks/stripe): where it sends events.`;

/** The endpoint's signing secret, fixed so that the printed variables stay the same across restarts. */
const WEBHOOK_SECRET = 'whsec_local';

const settingsSchema = z.object({
  PAYMENTS_LOCAL_PORT: z.coerce.number().int().min(1).max(65535).default(12111),
  PAYMENTS_LOCAL_WEBHOOK_URL: z.string().regex(/^https?:\/\/[^/]+/, 'must be an http(s) URL').default('http://127.0.0.1:4000/webhooks/stripe'),
});

/** A mistake of the person at the terminal: the message is all they need. */
class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

function settings() {
  const present = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== ''));
  const parsed = settingsSchema.safeParse(present);
  if (!parsed.success) throw new CommandError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n'));
  return { port: parsed.data.PAYMENTS_LOCAL_PORT, webhookUrl: parsed.data.PAYMENTS_LOCAL_WEBHOOK_URL };
}

async function serve(port: number, webhookUrl: string): Promise<void> {
  const server = await startPaymentsServer({ port, webhook: { url: webhookUrl, secret: WEBHOOK_SECRET }, log: (line) => console.log(line) }).catch((error) => {
    if (error.code === 'EADDRINUSE') throw new CommandError(`Port ${port} is taken: is the payments server running already? PAYMENTS_LOCAL_PORT chooses another.`);
    throw error;
  });
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  console.log(
    [
      `Payments server for development (Stripe-compatible, test mode, data in memory): ${server.url}`,
      `Webhooks go to ${webhookUrl}`,
      'Start tollgate with:',
      `STRIPE_SECRET_KEY=${server.secretKey} STRIPE_WEBHOOK_SECRET=${WEBHOOK_SECRET} STRIPE_API_BASE=${server.url}`,
    ].join('\n'),
  );
}

/** Does what the card holder's page does, through the running server. */
async function act(port: number, path: string, form: Record<string, string>): Promise<ActionResult> {
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { accept: 'application/json' }, body: new URLSearchParams(form) });
  } catch {
    throw new CommandError(`No payments server answers at http://127.0.0.1:${port}: start it with npm run payments:local`);
  }
  const answer = (await response.json()) as ActionResult & { error?: { message: string } };
  if (answer.error) throw new CommandError(answer.error.message);
  return answer;
}

function report(summary: string, result: ActionResult): void {
  console.log(summary);
  if (result.delivery) console.log(deliveryLine(result.delivery));
}

async function main(args: string[]): Promise<void> {
  const { port, webhookUrl } = settings();
  const [command, id, card = 'pm_card_visa'] = args;
  if (command === undefined) return serve(port, webhookUrl);
  if (!id || !['save-card', 'complete', 'fail', 'pay-invoice'].includes(command)) throw new CommandError(USAGE, 2);
  if (command === 'pay-invoice') {
    const result = await act(port, `/invoices/${encodeURIComponent(id)}`, {});
    return report(`Invoice ${result.object.number} ${result.object.status}`, result);
  }
  if (command === 'save-card') {
    const result = await act(port, `/setup/${encodeURIComponent(id)}`, { card });
    return report(`SetupIntent ${result.object.id} ${result.object.status}: ${card} saved as ${result.object.payment_method}`, result);
  }
  const result = await act(port, `/3ds/${encodeURIComponent(id)}`, { outcome: command });
  const reason = result.object.last_payment_error?.message;
  report(`PaymentIntent ${result.object.id} ${result.object.status}${reason ? `: ${reason}` : ''}`, result);
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof CommandError ? error.exitCode : 1);
});
