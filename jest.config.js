/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/setup-file.ts'],
  testTimeout: 60_000,
  // Integration tests share one Temporal dev server; two workers fit this 2-core machine.
  maxWorkers: 2,
  // The Temporal SDK's Worker keeps each test file that runs one alive in jest's worker process
  // (about 40 MB a file); recycled above this, a jest worker ends the run small enough to exit
  // within the half second jest waits, instead of at 1.4 to 1.7 GB of heap, a second to tear down.
  workerIdleMemoryLimit: '600MB',
};
