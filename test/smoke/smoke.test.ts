import 'aws-sdk-client-mock-jest';
import { DeleteObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SMOKE_DATASET as WORKFLOW_SMOKE_DATASET } from '../../lib/constructs/replication-workflow';
import { SMOKE_DATASET, type SmokeConfig } from '../../scripts/smoke-test/config';
import { runSmokeTest, type SmokeDeps } from '../../scripts/smoke-test/smoke';
import { BUCKET, FakeAws, FakeClock, STATE_MACHINE_ARN } from './fake-aws';

const RUN = 'run-1';
const config: SmokeConfig = {
  bucket: BUCKET,
  stateMachineArn: STATE_MACHINE_ARN,
  region: 'us-west-2',
  timeoutSeconds: 300,
  pollSeconds: 15,
  runId: RUN,
};
const good = `incoming/smoke/${RUN}/good.csv`;
const bad = `incoming/smoke/${RUN}/bad.csv`;

let clock: FakeClock;
let aws: FakeAws;
let logs: string[];

function deps(extra: Partial<SmokeDeps> = {}): SmokeDeps {
  return {
    s3: new S3Client({ region: 'us-west-2' }),
    sfn: new SFNClient({ region: 'us-west-2' }),
    clock,
    log: (l) => logs.push(l),
    fixtures: { good: 'id,name,amount\n1,a,1\n', bad: 'identifier,name,amount\n1,a,1\n' },
    ...extra,
  };
}

/** What the deployed Glue job and Step Functions trigger do with each upload. */
interface PipelineBehaviour {
  good?: 'validate' | 'quarantine' | 'ignore';
  bad?: 'quarantine' | 'validate' | 'ignore';
  /** Statuses DescribeExecution reports, one per call; the last one sticks. */
  execution?: ('RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED')[];
  executionError?: { error: string; cause: string };
  /**
   * `job`: what the validation job writes (glue/src/migration_validation/actions.py `full_report`); `source-only`:
   * what it wrote before the object's identity was lifted to the top level (only under `source`).
   */
  reportShape?: 'job' | 'source-only';
  /** Whether a PASSED file starts an execution (the Step Functions trigger). @default true */
  startsExecution?: boolean;
  /** The execution's output. @default what the workflow's smoke path returns for a `ready` task */
  output?: object;
}

const SMOKE_PATH_OUTPUT = {
  correlationId: 'corr-good.csv',
  dataset: 'smoke',
  smokeCheck: {
    replicationTaskArn: 'arn:aws:dms:us-west-2:111111111111:task:NEVERSTARTED',
    replicationTaskStatus: 'ready',
    replicationStarted: false,
  },
};

function pipeline(b: PipelineBehaviour): void {
  aws.onPut = (key) => {
    const name = key.split('/').pop()!;
    const correlationId = `corr-${name}`;
    // The job's report key: reports/<dataset>/<correlationId>.json, not under the run's prefixes.
    const reportKey = `reports/smoke/${correlationId}.json`;
    const action = key === good ? (b.good ?? 'validate') : key === bad ? (b.bad ?? 'quarantine') : 'ignore';
    if (action === 'ignore') return;
    const destinationKey = key.replace('incoming/', action === 'validate' ? 'validated/' : 'quarantine/');
    aws.put(destinationKey, 'copy');
    const status = action === 'validate' ? 'PASSED' : 'FAILED';
    const reasons = action === 'validate' ? [] : ['header mismatch: expected id,name,amount'];
    const identity = { correlationId, bucket: BUCKET, key, versionId: 'v1' };
    const report = {
      schemaVersion: 1,
      dataset: 'smoke',
      status,
      reasons,
      rowCount: 1,
      errorRows: action === 'validate' ? 0 : 1,
      ...(b.reportShape === 'source-only' ? {} : identity),
      destinationKey,
      source: identity,
    };
    aws.put(reportKey, JSON.stringify(report));
    if (action === 'validate' && key === good && b.startsExecution !== false) {
      const [first = 'RUNNING', ...rest] = b.execution ?? ['RUNNING', 'RUNNING', 'SUCCEEDED'];
      aws.startExecution(
        correlationId,
        { correlationId, dataset: 'smoke', bucket: BUCKET, key: destinationKey, versionId: 'v1', reportKey },
        {
          status: first,
          script: rest.length ? rest : undefined,
          output: JSON.stringify(b.output ?? SMOKE_PATH_OUTPUT),
          ...b.executionError,
        },
      );
    }
  };
}

beforeEach(() => {
  clock = new FakeClock();
  aws = new FakeAws(clock);
  logs = [];
  // Another run's leftovers and unrelated data must survive cleanup.
  aws.put('incoming/sales/2026/orders.csv', 'x');
  aws.put(
    'reports/smoke/corr-run-0.json',
    JSON.stringify({ status: 'PASSED', correlationId: 'corr-run-0', key: 'incoming/smoke/run-0/good.csv' }),
  );
});
afterEach(() => aws.restore());

const runObjects = () => aws.keys().filter((k) => k.includes(`/smoke/${RUN}/`));

describe('runSmokeTest', () => {
  it('passes when the good file runs to SUCCEEDED and the bad file is quarantined and reported', async () => {
    pipeline({});
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.checks).toEqual([
      { name: 'good file', ok: true, detail: expect.stringContaining('execution corr-good.csv SUCCEEDED') },
      {
        name: 'bad file',
        ok: true,
        detail: expect.stringMatching(
          /quarantined at quarantine\/smoke\/run-1\/bad.csv; .*status FAILED, correlation id corr-bad.csv, reasons: header mismatch/,
        ),
      },
      { name: 'cleanup', ok: true, detail: 'deleted 6 object versions' },
    ]);
    expect(outcome.ok).toBe(true);
    expect(logs).toContain('[good] execution corr-good.csv is RUNNING (0s)');
    expect(runObjects()).toEqual([]);
    expect(aws.keys()).toEqual(['incoming/sales/2026/orders.csv', 'reports/smoke/corr-run-0.json']);
    expect(aws.s3).toHaveReceivedCommandWith(DeleteObjectsCommand, {
      Delete: expect.objectContaining({
        Objects: expect.arrayContaining([{ Key: good, VersionId: expect.any(String) }]),
      }),
    });
  });

  it('says which task it observed and that it did not start it', async () => {
    pipeline({});
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.checks[0]!.detail).toMatch(/SUCCEEDED.*; replication task ready, not started$/);
  });

  it('fails when the execution succeeded on the replication path instead of the smoke path', async () => {
    // What a workflow that started DMS for the smoke batch would return: a replicated batch, no smokeCheck.
    pipeline({ output: { correlationId: 'corr-good.csv', dataset: 'smoke', cdc: { values: [3] } } });
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.ok).toBe(false);
    expect(outcome.checks[0]).toEqual({
      name: 'good file',
      ok: false,
      detail: expect.stringMatching(/^expected execution corr-good.csv to end on the smoke path .*dataset 'smoke'\?$/),
    });
    expect(outcome.checks[2]!.ok).toBe(true);
  });

  it('uses the dataset name the workflow treats as a smoke batch', () => {
    expect(SMOKE_DATASET).toBe(WORKFLOW_SMOKE_DATASET);
  });

  it('fails with what it saw when the execution fails, and still cleans up', async () => {
    pipeline({
      execution: ['RUNNING', 'FAILED'],
      executionError: { error: 'States.TaskFailed', cause: 'DMS task stopped' },
    });
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.ok).toBe(false);
    expect(outcome.checks[0]).toEqual({
      name: 'good file',
      ok: false,
      detail: `expected execution arn:aws:states:us-west-2:111111111111:execution:Orchestration:corr-good.csv to reach SUCCEEDED; saw FAILED (error: States.TaskFailed; cause: DMS task stopped)`,
    });
    expect(outcome.checks[1]!.ok).toBe(true);
    expect(outcome.checks[2]!.ok).toBe(true);
    expect(runObjects()).toEqual([]);
  });

  it('gives up at the bound when no execution starts, in virtual time, and names what it waited for', async () => {
    pipeline({ good: 'ignore' });
    const started = clock.now();
    const outcome = await runSmokeTest({ ...config, timeoutSeconds: 60 }, deps());
    expect(outcome.checks[0]).toEqual({
      name: 'good file',
      ok: false,
      detail:
        `expected an execution of ${STATE_MACHINE_ARN} whose input names s3://${BUCKET}/validated/smoke/run-1/good.csv; ` +
        'gave up after 60s; last seen: no execution for it among 0 started since 2026-11-22T11:55:00.000Z',
    });
    expect(clock.now() - started).toBeLessThanOrEqual(60_000);
    expect(logs.filter((l) => l.startsWith('[good] no execution'))).toHaveLength(4); // at 0, 15, 30 and 45 s
    expect(runObjects()).toEqual([]);
  });

  it('fails at once when the good file is quarantined instead, quoting the report', async () => {
    pipeline({ good: 'quarantine' });
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.checks[0]!.detail).toBe(
      `expected ${good} to pass validation and start an execution; saw it quarantined at quarantine/smoke/run-1/good.csv ` +
        'with report reports/smoke/corr-good.csv.json: status FAILED, correlation id corr-good.csv, reasons: header mismatch: expected id,name,amount',
    );
    expect(clock.now()).toBe(new FakeClock().now()); // no waiting
  });

  it('fails when the bad file is never quarantined or reported', async () => {
    pipeline({ bad: 'ignore' });
    const outcome = await runSmokeTest({ ...config, timeoutSeconds: 60 }, deps());
    expect(outcome.checks[0]!.ok).toBe(true);
    expect(outcome.checks[1]).toEqual({
      name: 'bad file',
      ok: false,
      detail:
        `expected ${bad} quarantined at quarantine/smoke/run-1/bad.csv and a FAILED report under reports/smoke/ naming its correlation id; ` +
        'gave up after 60s; last seen: not quarantined yet, no report yet',
    });
    expect(runObjects()).toEqual([]);
  });

  it('fails at once when the bad file passes validation', async () => {
    pipeline({ bad: 'validate' });
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.checks[1]!.detail).toMatch(
      /^expected a FAILED report for incoming\/smoke\/run-1\/bad.csv; saw reports\/smoke\/corr-bad.csv.json: status PASSED/,
    );
    expect(runObjects()).toEqual([]);
  });

  it('reads the correlation id under source when the report has none at the top level', async () => {
    pipeline({ reportShape: 'source-only' });
    const outcome = await runSmokeTest(config, deps({ correlationIdOf: (_b, key) => `corr-${key.split('/').pop()!}` }));
    expect(outcome.checks[1]).toEqual({
      name: 'bad file',
      ok: true,
      detail: expect.stringContaining(
        'report reports/smoke/corr-bad.csv.json: status FAILED, correlation id corr-bad.csv',
      ),
    });
    expect(outcome.ok).toBe(true);
  });

  it('deletes the reports of its uploads even when no check got as far as reading them', async () => {
    pipeline({ startsExecution: false });
    const outcome = await runSmokeTest({ ...config, timeoutSeconds: 60 }, deps());
    expect(outcome.checks.map((c) => [c.name, c.ok])).toEqual([
      ['good file', false],
      ['bad file', true],
      ['cleanup', true],
    ]);
    expect(aws.keys()).toEqual(['incoming/sales/2026/orders.csv', 'reports/smoke/corr-run-0.json']);
  });

  it('checks correlation ids against the trigger derivation when one is given', async () => {
    pipeline({});
    const outcome = await runSmokeTest(config, deps({ correlationIdOf: (_b, key) => `corr-${key.split('/').pop()!}` }));
    expect(outcome.ok).toBe(true);

    aws.executions.length = 0;
    const wrong = await runSmokeTest(config, deps({ correlationIdOf: () => 'something-else' }));
    expect(wrong.checks[0]!.detail).toBe(
      'expected the input of execution corr-good.csv to carry correlation id something-else; saw corr-good.csv',
    );
    expect(wrong.checks[1]!.detail).toBe(
      'expected report reports/smoke/corr-bad.csv.json to carry correlation id something-else; saw corr-bad.csv',
    );
  });

  it('describes the execution by its derived name when the bucket returns a version id', async () => {
    pipeline({});
    const outcome = await runSmokeTest(
      config,
      deps({ correlationIdOf: (_b, key) => `corr-${key.split('/').pop()!}`, executionNameOf: (id) => id }),
    );
    expect(outcome.ok).toBe(true);
    expect(aws.describeCalls[0]).toBe('arn:aws:states:us-west-2:111111111111:execution:Orchestration:corr-good.csv');
    expect(aws.sfn).not.toHaveReceivedCommand(ListExecutionsCommand);
  });

  it('describes an unrelated execution only once and stops listing at executions older than the upload', async () => {
    clock.ms -= 3600_000;
    aws.startExecution('last-hour', { bucket: BUCKET, key: 'validated/sales/a.csv' });
    clock.ms += 3600_000;
    aws.startExecution('other', { bucket: BUCKET, key: 'validated/sales/b.csv' });
    pipeline({ execution: ['RUNNING', 'RUNNING', 'RUNNING', 'SUCCEEDED'] });
    const original = aws.onPut;
    aws.onPut = (key, body) => {
      if (key !== good) return original(key, body);
      clock.after(20_000, () => original(key, body)); // validation takes a while
    };
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.ok).toBe(true);
    expect(aws.describeCalls.filter((a) => a.endsWith(':other'))).toHaveLength(1);
    expect(aws.describeCalls.filter((a) => a.endsWith(':last-hour'))).toHaveLength(0);
    expect(aws.sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, aws.describeCalls.length);
  });

  it('reports a cleanup that could not delete everything', async () => {
    pipeline({});
    aws.s3
      .on(DeleteObjectsCommand)
      .resolves({ Errors: [{ Key: good, VersionId: 'v3', Code: 'AccessDenied', Message: 'no' }] });
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.ok).toBe(false);
    expect(outcome.checks[2]).toEqual({
      name: 'cleanup',
      ok: false,
      detail: `expected to delete everything; failed for: ${good}@v3: AccessDenied no`,
    });
  });

  it('cleans up current objects when the endpoint cannot list versions', async () => {
    pipeline({});
    aws.supportsVersionListing = false;
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.checks[2]).toEqual({
      name: 'cleanup',
      ok: true,
      detail: 'deleted 6 objects (endpoint lists no versions)',
    });
    expect(runObjects()).toEqual([]);
  });

  it('cleans up after an upload that failed', async () => {
    pipeline({});
    const original = aws.onPut;
    aws.onPut = (key, body) => {
      original(key, body);
      if (key === bad) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    };
    const outcome = await runSmokeTest(config, deps());
    expect(outcome.checks[1]).toEqual({ name: 'bad file', ok: false, detail: 'AccessDenied: Access Denied' });
    expect(runObjects()).toEqual([]);
  });
});
