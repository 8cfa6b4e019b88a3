import { printSchema } from 'graphql';
import { buildGraphqlSchema } from './schema';

export const SCHEMA_FILE = 'schema/schema.graphql';

/** The SDL as committed in schema/schema.graphql. */
export async function printedSchema(): Promise<string> {
  return `${printSchema(await buildGraphqlSchema())}\n`;
}
