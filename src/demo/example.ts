import { DEMO_EXAMPLE_MODEL } from './catalog';
import type { Demo } from './seed';

const DEBIT = 'mutation ($input: GatewayDebitInput!) { gatewayDebit(input: $input) { allowed cost availableBalance denial { code message } } }';
const FRESH_KEY = '@fresh-key@';

/**
 * A curl of one gatewayDebit with the demo's gateway token and API key, ready to paste into a
 * POSIX shell. Its idempotency key is made from the time by the shell, so that each paste is a
 * new call (the same key again would be answered with the first call's answer).
 */
export function demoDebitCurl(graphqlUrl: string, demo: Pick<Demo, 'gatewayToken' | 'apiKey'>): string {
  const input = { apiKey: demo.apiKey, model: DEMO_EXAMPLE_MODEL, idempotencyKey: FRESH_KEY, inputTokens: 1200, outputTokens: 350 };
  const body = JSON.stringify({ query: DEBIT, variables: { input } }).replace(FRESH_KEY, `try-'"$(date +%s%N)"'`);
  return `curl -s ${graphqlUrl} -H 'authorization: Bearer ${demo.gatewayToken}' -H 'content-type: application/json' -d '${body}'`;
}
