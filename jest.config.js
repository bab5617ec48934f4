const os = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': '<rootDir>/test/support/esbuild-transform.js' },
  setupFiles: ['<rootDir>/test/support/setup.ts'],
  // One folder per run where the suites share the stages they synthesize (docs/adr/0014).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  // JUnit XML for the CodeBuild test report group (see buildspec.yml).
  reporters: ['default', ['jest-junit', { outputDirectory: 'reports', outputName: 'jest-junit.xml' }]],
  testTimeout: 120000,
  // jest's default is one worker less than the cores, which on a 2-core machine (this one, small CI hosts)
  // means one process running every suite in turn. Two workers use both cores; a worker that needs a stage
  // the other is building waits for it (docs/adr/0014) instead of building it again.
  maxWorkers: Math.max(2, os.cpus().length - 1),
};
