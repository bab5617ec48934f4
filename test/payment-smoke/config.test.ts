import { parsePaymentSmokeConfig, PaymentSmokeConfigError } from '../../scripts/payment-smoke/config';

const TASK = 'arn:aws:dms:us-east-1:111111111111:task:ABCDEFGHIJKLMNOP';
const GOOD = {
  SOURCE_HEALTH_URL: 'https://source-alb.example.com/health',
  TARGET_HEALTH_URL: 'http://target-alb.example.com/health',
  REPLICATION_TASK_ARN: TASK,
  SOURCE_LOG_BUCKET: 'payments-dev-logs',
  REPLICA_BUCKET: 'payments-dev-logs-replica',
  REPLICA_REGION: 'us-west-2',
};

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    parsePaymentSmokeConfig(env, () => 'run-1');
  } catch (e) {
    if (e instanceof PaymentSmokeConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

describe('payment smoke configuration', () => {
  it('reads a complete environment, with defaults and the Region from the task ARN', () => {
    expect(parsePaymentSmokeConfig(GOOD, () => 'run-1')).toEqual({
      sourceHealthUrl: GOOD.SOURCE_HEALTH_URL,
      targetHealthUrl: GOOD.TARGET_HEALTH_URL,
      replicationTaskArn: TASK,
      expectedTaskStatuses: ['ready', 'running'],
      sourceBucket: 'payments-dev-logs',
      replicaBucket: 'payments-dev-logs-replica',
      replicaRegion: 'us-west-2',
      replicationTimeMinutes: 15,
      region: 'us-east-1',
      healthTimeoutSeconds: 120,
      pollSeconds: 15,
      runId: 'run-1',
    });
  });

  it('reports every missing variable by name, at once', () => {
    expect(problems({})).toEqual([
      'SOURCE_HEALTH_URL is not set',
      'TARGET_HEALTH_URL is not set',
      'REPLICATION_TASK_ARN is not set',
      'AWS_REGION is not set and REPLICATION_TASK_ARN names no Region',
      'SOURCE_LOG_BUCKET is not set',
      'REPLICA_BUCKET is not set',
      'REPLICA_REGION is not set',
    ]);
  });

  it('reports every malformed value by name', () => {
    const found = problems({
      ...GOOD,
      SOURCE_HEALTH_URL: 'ftp://x/health',
      REPLICATION_TASK_ARN: 'arn:aws:dms:us-east-1:111111111111:rep:X',
      REPLICA_BUCKET: 'Not_A_Bucket',
      REPLICA_REGION: 'us-east-1',
      REPLICATION_TIME_MINUTES: '0',
      DMS_EXPECTED_STATUSES: 'ready,sleeping',
      SMOKE_ROLE_ARN: 'arn:aws:iam::222222222222:role/smoke',
    });
    expect(found).toEqual([
      expect.stringMatching(/^SOURCE_HEALTH_URL 'ftp:\/\/x\/health' is not an http\(s\) URL/),
      expect.stringMatching(/^REPLICATION_TASK_ARN .* is not a DMS task ARN/),
      'AWS_REGION is not set and REPLICATION_TASK_ARN names no Region',
      "REPLICA_BUCKET 'Not_A_Bucket' is not a valid bucket name",
      expect.stringMatching(/^DMS_EXPECTED_STATUSES has unknown state\(s\) sleeping/),
      "REPLICATION_TIME_MINUTES is '0', expected a whole number of minutes from 1 to 1440",
    ]);
  });

  it('refuses a replica in the stage Region, a role in another account and a Region mismatch', () => {
    expect(problems({ ...GOOD, REPLICA_REGION: 'us-east-1' })).toEqual([
      "REPLICA_REGION is us-east-1, the stage's own Region; the replica must be in another Region",
    ]);
    expect(problems({ ...GOOD, SMOKE_ROLE_ARN: 'arn:aws:iam::222222222222:role/smoke' })).toEqual([
      "SMOKE_ROLE_ARN is in account 222222222222 but the DMS task is in 111111111111; use a role in the stage's account",
    ]);
    expect(problems({ ...GOOD, AWS_REGION: 'eu-west-1' })).toEqual([
      'REPLICATION_TASK_ARN is in us-east-1 but AWS_REGION is eu-west-1',
    ]);
  });
});
