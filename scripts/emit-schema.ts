import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printedSchema, SCHEMA_FILE } from '../src/graphql/print-schema';

/** Writes the SDL of the code's schema to schema/schema.graphql (a test fails when it is stale). */
printedSchema().then((sdl) => {
  writeFileSync(join(__dirname, '..', SCHEMA_FILE), sdl);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
});
