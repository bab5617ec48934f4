/**
 * Post-deployment smoke test of a PaymentCutoverStage. Run: `npx tsx scripts/payment-smoke/index.ts`.
 * Environment: see config.ts and README.md. Exit code 0 when every check passed, 1 otherwise.
 */
import { DatabaseMigrationServiceClient } from '@aws-sdk/client-database-migration-service';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { systemClock } from '../smoke-test/clock';
import { httpGet } from './checks';
import { parsePaymentSmokeConfig, PaymentSmokeConfigError, type PaymentSmokeConfig } from './config';
import { runPaymentSmoke } from './smoke';

async function credentialsFor(config: PaymentSmokeConfig): Promise<S3ClientConfig['credentials']> {
  if (!config.roleArn) return undefined; // already inside the stage's account
  const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
  return fromTemporaryCredentials({
    params: { RoleArn: config.roleArn, RoleSessionName: `payment-smoke-${config.runId}`.slice(0, 64) },
    clientConfig: { region: config.region },
  });
}

async function main(): Promise<number> {
  let config: PaymentSmokeConfig;
  try {
    config = parsePaymentSmokeConfig(process.env);
  } catch (e) {
    if (e instanceof PaymentSmokeConfigError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const credentials = await credentialsFor(config);
  const withCredentials = credentials ? { credentials } : {};
  const outcome = await runPaymentSmoke(config, {
    dms: new DatabaseMigrationServiceClient({ region: config.region, ...withCredentials }),
    sourceS3: new S3Client({ region: config.region, ...withCredentials }),
    replicaS3: new S3Client({ region: config.replicaRegion, ...withCredentials }),
    http: httpGet,
    clock: systemClock,
    log: (line) => console.log(`${new Date().toISOString()} ${line}`),
  });
  for (const check of outcome.checks) console.log(`${check.ok ? 'PASS' : 'FAIL'} ${check.name}: ${check.detail}`);
  const passed = outcome.checks.filter((c) => c.ok).length;
  console.log(`payment smoke: ${passed} passed, ${outcome.checks.length - passed} failed`);
  return outcome.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error('payment smoke test crashed:', e);
    process.exitCode = 1;
  },
);
