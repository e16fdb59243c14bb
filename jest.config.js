/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
  // Two files at once: most of a file's time is spent waiting on PostgreSQL, Redis, Chromium or
  // child processes. On this 2-vCPU machine jest took 816 s with one worker (its default here: cores
  // minus one) and 488-583 s with two.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/count-reporter.cjs'],
};
