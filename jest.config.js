/**
 * Tests run against the real PostgreSQL: see test/support/global-setup.ts. `npm test` starts
 * Jest with --experimental-vm-modules, because PGlite (the embedded database, which some tests
 * open directly) loads its parts with import(), which Jest's sandbox allows only then.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // tsconfig.json sets isolatedModules, so ts-jest only transpiles; `npm test` type-checks first.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['reflect-metadata'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
