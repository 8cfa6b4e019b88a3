/** How many subscriptions of the server at `url` listen on `topic` (its /metrics). */
export async function subscriptionsListening(url: string, topic: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`tollgate_subscriptions_listening{topic="${topic}"}`));
  return line ? Number(line.split(' ')[1]) : 0;
}

/**
 * Resolves once the server at `url` has at least `count` subscriptions listening on `topic`: a
 * subscription has no acknowledgement, and an event published before it listens is not its.
 */
export async function untilListening(url: string, topic: string, count: number): Promise<void> {
  for (let tries = 0; (await subscriptionsListening(url, topic)) < count; tries += 1) {
    if (tries > 500) throw new Error(`fewer than ${count} subscriptions listen on ${topic}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
