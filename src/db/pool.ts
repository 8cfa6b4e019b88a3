import type { Knex } from '@mikro-orm/knex';
import type { ClientBase } from 'pg';

/** `work` on a connection of the application's pool, given back afterwards. */
export async function withConnection<T>(knex: Knex, work: (client: ClientBase) => Promise<T>): Promise<T> {
  const client = (await knex.client.acquireConnection()) as ClientBase;
  try {
    return await work(client);
  } finally {
    await knex.client.releaseConnection(client);
  }
}
