import { Migration20261123000000_foundation } from './Migration20261123000000_foundation';

/** Listed explicitly so that the same list runs from TypeScript (tests) and compiled JS. */
export const MIGRATIONS = [
  { name: 'Migration20261123000000_foundation', class: Migration20261123000000_foundation },
];
