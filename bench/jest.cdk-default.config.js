// The baseline of issue 13's test-time target: jest as `cdk init app --language typescript` sets it up, on
// this project's suites. The transform is ts-jest (what the issue names; aws-cdk 2.1148's template now uses
// @swc/jest, which is not installed here), reading the project's tsconfig.json; like the `cdk init` tsconfig
// it sets `isolatedModules`, so ts-jest transpiles each file without type checking. Nothing of ours is added:
// no shared stages (no global setup), no `CDK_VALIDATION=false`, no silenced bundling lines, jest's default
// worker count. Only what the suites need to run at all is kept: the Node 20 polyfill, the SDK mock matchers
// and the project's per-test timeout. Used by `npm run bench:synth`; not a test.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  setupFiles: ['<rootDir>/test/support/polyfills.ts'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean', 'aws-sdk-client-mock-jest'],
  testTimeout: 120000,
};
