/**
 * The smoke test end to end against a real S3 API (s3rver on 127.0.0.1) and a stand-in pipeline:
 * uploads under incoming/ are validated against the smoke contract's header, copied to validated/
 * or quarantine/ with a report, and a passed file starts a local execution of the orchestration
 * definition. The smoke code's Step Functions calls are answered from those local executions.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CopyObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, type ExecutionStatus } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import S3rver from 's3rver';
import { correlationIdFor } from '../../lambda/glue-trigger/correlation';
import { executionNameFor } from '../../lambda/sfn-trigger/execution-name';
import { systemClock } from '../../scripts/smoke-test/clock';
import type { SmokeConfig } from '../../scripts/smoke-test/config';
import { runSmokeTest } from '../../scripts/smoke-test/smoke';
import {
  runDefinition,
  taskError,
  validateDefinition,
  type AslDefinition,
  type Json,
  type TaskHandler,
} from '../support/asl';

const BUCKET = 'migration-data-e2e';
const STATE_MACHINE_ARN = 'arn:aws:states:us-west-2:111111111111:stateMachine:Orchestration';
const FIXTURES = path.join(__dirname, '..', '..', 'scripts', 'smoke-test', 'fixtures');
const SMOKE_HEADER = 'id,name,amount'; // the `smoke` dataset contract's columns

/**
 * The orchestration workflow the smoke test drives. A small hand-written stand-in for now; point it
 * at the OrchestrationStack's synthesized template (definitionFromTemplate) when that stack exists.
 */
function loadOrchestrationDefinition(): AslDefinition {
  const definition: AslDefinition = {
    StartAt: 'EnsureReplicationRunning',
    TimeoutSeconds: 7200,
    States: {
      EnsureReplicationRunning: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:databasemigration:describeReplicationTasks',
        Parameters: {
          Filters: [{ Name: 'replication-task-arn', Values: ['arn:aws:dms:us-west-2:111111111111:task:T'] }],
        },
        ResultSelector: { 'status.$': '$.ReplicationTasks[0].Status' },
        ResultPath: '$.replication',
        Retry: [
          {
            ErrorEquals: ['DatabaseMigration.ThrottlingException'],
            IntervalSeconds: 2,
            BackoffRate: 2,
            MaxAttempts: 5,
          },
        ],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'PublishFailure' }],
        Next: 'ReplicationRunning?',
      },
      'ReplicationRunning?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.replication.status', StringEquals: 'running', Next: 'RecordBatch' }],
        Default: 'WaitForReplication',
      },
      WaitForReplication: { Type: 'Wait', Seconds: 60, Next: 'EnsureReplicationRunning' },
      RecordBatch: {
        Type: 'Task',
        Resource: 'arn:aws:states:::dynamodb:putItem',
        Parameters: { TableName: 'batches', Item: { correlationId: { 'S.$': '$.correlationId' } } },
        ResultPath: null,
        Next: 'PublishSuccess',
      },
      PublishSuccess: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sns:publish',
        Parameters: { TopicArn: 'arn:aws:sns:us-west-2:111111111111:outcomes', 'Message.$': '$' },
        End: true,
      },
      PublishFailure: {
        Type: 'Task',
        Resource: 'arn:aws:states:::sns:publish',
        Parameters: { TopicArn: 'arn:aws:sns:us-west-2:111111111111:outcomes', 'Message.$': '$' },
        Next: 'BatchFailed',
      },
      BatchFailed: { Type: 'Fail', Error: 'BatchFailed', Cause: 'replication could not be confirmed' },
    },
  };
  validateDefinition(definition);
  return definition;
}

interface LocalExecution {
  executionArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  startDate: Date;
  stopDate?: Date;
  error?: string;
  cause?: string;
  visited?: string[];
}

let server: S3rver;
let dir: string;
let s3: S3Client;
const sfn = mockClient(SFNClient);
let executions: LocalExecution[];
let background: Promise<void>[];
let replicationHandler: TaskHandler;
let recorded: Json[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 's3rver-'));
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-west-2',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // Otherwise uploads are stored with their aws-chunked framing.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  server.on('event', (event) => {
    for (const record of event.Records) {
      if (record.eventName === 'ObjectCreated:Put' && record.s3.object.key.startsWith('incoming/')) {
        const { key, eTag, sequencer } = record.s3.object;
        // s3rver has no versions, so the trigger's derivation uses etag and sequencer, as for an unversioned bucket.
        const correlationId = correlationIdFor({ bucket: BUCKET, key: decodeURIComponent(key), etag: eTag, sequencer });
        background.push(processUpload(decodeURIComponent(key), correlationId));
      }
    }
  });
});

afterAll(async () => {
  sfn.restore();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  executions = [];
  background = [];
  recorded = [];
  sfn.reset();
  sfn.on(ListExecutionsCommand).callsFake(() => ({
    executions: [...executions]
      .sort((a, b) => +b.startDate - +a.startDate)
      .map(({ executionArn, name, status, startDate }) => ({
        executionArn,
        name,
        status,
        startDate,
        stateMachineArn: STATE_MACHINE_ARN,
      })),
  }));
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => {
    const ex = executions.find((e) => e.executionArn === executionArn);
    if (!ex)
      throw Object.assign(new Error(`Execution ${executionArn} does not exist`), { name: 'ExecutionDoesNotExist' });
    return { ...ex, stateMachineArn: STATE_MACHINE_ARN };
  });
});

afterEach(async () => {
  await Promise.all(background);
});

/** What the Glue job and the Step Functions trigger do with one upload. */
async function processUpload(key: string, correlationId: string): Promise<void> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const text = (await object.Body!.transformToString('utf-8')).replace(/\r\n/g, '\n');
  const header = text.split('\n', 1)[0];
  const passed = header === SMOKE_HEADER;
  const destinationKey = key.replace(/^incoming\//, passed ? 'validated/' : 'quarantine/');
  const reportKey = `${key.replace(/^incoming\//, 'reports/')}.json`;
  await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: destinationKey, CopySource: `${BUCKET}/${key}` }));
  const report = {
    schemaVersion: 1,
    status: passed ? 'PASSED' : 'FAILED',
    dataset: 'smoke',
    correlationId,
    bucket: BUCKET,
    key,
    versionId: object.VersionId ?? null,
    reportKey,
    destinationKey,
    reasons: passed ? [] : [`header mismatch: expected ${SMOKE_HEADER}, found ${header}`],
  };
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: reportKey, Body: JSON.stringify(report) }));
  if (!passed) return;

  const input = {
    correlationId,
    dataset: 'smoke',
    bucket: BUCKET,
    key: destinationKey,
    versionId: report.versionId,
    reportKey,
  };
  const execution: LocalExecution = {
    executionArn: `arn:aws:states:us-west-2:111111111111:execution:Orchestration:${executionNameFor(correlationId)}`,
    name: executionNameFor(correlationId),
    status: 'RUNNING',
    input: JSON.stringify(input),
    startDate: new Date(),
  };
  executions.push(execution);
  const result = await runDefinition(loadOrchestrationDefinition(), input, {
    handlers: {
      EnsureReplicationRunning: replicationHandler,
      RecordBatch: async (item) => void recorded.push(item),
      PublishSuccess: async () => ({ MessageId: 'm-1' }),
      PublishFailure: async () => ({ MessageId: 'm-2' }),
    },
    waitOverrides: 'all-zero',
    retryOverrides: 'all-zero',
  });
  Object.assign(execution, {
    status: result.status,
    stopDate: new Date(),
    visited: result.visited,
    ...(result.error ? { error: result.error } : {}),
    ...(result.cause ? { cause: result.cause } : {}),
  });
}

const config = (runId: string): SmokeConfig => ({
  bucket: BUCKET,
  stateMachineArn: STATE_MACHINE_ARN,
  region: 'us-west-2',
  timeoutSeconds: 20,
  pollSeconds: 0.05,
  runId,
});

async function allKeys(): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

function smoke(runId: string) {
  const logs: string[] = [];
  const outcome = runSmokeTest(config(runId), {
    s3,
    sfn: new SFNClient({ region: 'us-west-2' }),
    clock: systemClock,
    log: (l) => logs.push(l),
    fixtures: {
      good: readFileSync(path.join(FIXTURES, 'good.csv')),
      bad: readFileSync(path.join(FIXTURES, 'bad.csv')),
    },
    correlationIdOf: (bucket, key, versionId) => correlationIdFor({ bucket, key, versionId }),
    executionNameOf: executionNameFor,
  });
  return { outcome, logs };
}

describe('smoke test against s3rver and a local orchestration run', () => {
  it('passes, and leaves the bucket as it found it', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'validated/sales/keep.csv', Body: 'id\n1\n' }));
    const statuses = ['starting', 'running'];
    replicationHandler = async () => ({ ReplicationTasks: [{ Status: statuses.shift() ?? 'running' }] });

    const { outcome, logs } = smoke('e2e-pass');
    const result = await outcome;

    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['good file', true],
      ['bad file', true],
      ['cleanup', true],
    ]);
    // s3rver has no versioning API, so cleanup falls back to current objects: both uploads, their copies and reports.
    expect(result.checks[2]!.detail).toBe('deleted 6 objects (endpoint lists no versions)');
    expect(result.checks[1]!.detail).toContain(
      'header mismatch: expected id,name,amount, found identifier,full_name,amount',
    );
    const goodId = (JSON.parse(executions[0]!.input) as { correlationId: string }).correlationId;
    expect(goodId).toMatch(/^[0-9a-f]{32}$/);
    expect(result.checks[0]!.detail).toContain(`(correlation id ${goodId})`);
    expect(recorded).toEqual([{ TableName: 'batches', Item: { correlationId: { S: goodId } } }]);
    expect(executions[0]!.visited).toEqual([
      'EnsureReplicationRunning',
      'ReplicationRunning?',
      'WaitForReplication',
      'EnsureReplicationRunning',
      'ReplicationRunning?',
      'RecordBatch',
      'PublishSuccess',
    ]);
    expect(
      logs.some((l) => l.startsWith('[good] uploaded s3://migration-data-e2e/incoming/smoke/e2e-pass/good.csv')),
    ).toBe(true);
    expect(await allKeys()).toEqual(['validated/sales/keep.csv']);
  });

  it('fails with the execution error when the orchestration fails, and still cleans up', async () => {
    replicationHandler = async () => {
      throw taskError('DatabaseMigration.ResourceNotFoundFault', 'replication task not found');
    };

    const result = await smoke('e2e-fail').outcome;

    expect(result.ok).toBe(false);
    expect(result.checks[0]).toEqual({
      name: 'good file',
      ok: false,
      detail: expect.stringMatching(
        /^expected execution arn:aws:states:.*:execution:Orchestration:[0-9a-f]{32} to reach SUCCEEDED; saw FAILED \(error: BatchFailed; cause: replication could not be confirmed\)$/,
      ),
    });
    expect(result.checks[1]!.ok).toBe(true);
    expect(result.checks[2]!.ok).toBe(true);
    expect(await allKeys()).toEqual(['validated/sales/keep.csv']);
  });
});
