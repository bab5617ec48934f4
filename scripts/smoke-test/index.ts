/**
 * Post-deployment smoke test of a MigrationStage. Run: `npx tsx scripts/smoke-test/index.ts`.
 * Environment: see config.ts and README.md. Exit code 0 when every check passed, 1 otherwise.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { correlationIdFor } from '../../lambda/glue-trigger/correlation';
import { executionNameFor } from '../../lambda/sfn-trigger/execution-name';
import { systemClock } from './clock';
import { parseSmokeConfig, SmokeConfigError, type SmokeConfig } from './config';
import { runSmokeTest } from './smoke';

const FIXTURES = path.join(__dirname, 'fixtures');

async function credentialsFor(config: SmokeConfig): Promise<S3ClientConfig['credentials']> {
  if (!config.roleArn) return undefined; // already inside the target account (e.g. a CodeBuild role there)
  // Loaded only when needed, so a run inside the target account does not depend on it.
  const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
  return fromTemporaryCredentials({
    params: { RoleArn: config.roleArn, RoleSessionName: `smoke-${config.runId}`.slice(0, 64) },
    clientConfig: { region: config.region },
  });
}

async function main(): Promise<number> {
  let config: SmokeConfig;
  try {
    config = parseSmokeConfig(process.env);
  } catch (e) {
    if (e instanceof SmokeConfigError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const credentials = await credentialsFor(config);
  const clientConfig = { region: config.region, ...(credentials ? { credentials } : {}) };
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const outcome = await runSmokeTest(config, {
    s3: new S3Client(clientConfig),
    sfn: new SFNClient(clientConfig),
    clock: systemClock,
    log,
    fixtures: {
      good: readFileSync(path.join(FIXTURES, 'good.csv')),
      bad: readFileSync(path.join(FIXTURES, 'bad.csv')),
    },
    // The same derivations the Glue trigger and the Step Functions trigger use.
    correlationIdOf: (bucket, key, versionId) => correlationIdFor({ bucket, key, versionId }),
    executionNameOf: executionNameFor,
  });
  for (const check of outcome.checks) console.log(`${check.ok ? 'PASS' : 'FAIL'} ${check.name}: ${check.detail}`);
  const passed = outcome.checks.filter((c) => c.ok).length;
  console.log(`smoke: ${passed} passed, ${outcome.checks.length - passed} failed`);
  return outcome.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error('smoke test crashed:', e);
    process.exitCode = 1;
  },
);
