import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { printedSchema, SCHEMA_FILE } from '../src/graphql/print-schema';

describe('the committed schema', () => {
  it('matches the schema built from the code (run `npm run schema` after changing it)', async () => {
    const committed = readFileSync(join(__dirname, '..', SCHEMA_FILE), 'utf8');
    expect(committed).toBe(await printedSchema());
  });
});
