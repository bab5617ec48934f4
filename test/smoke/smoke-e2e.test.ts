/**
 * The smoke test end to end against a real S3 API (s3rver on 127.0.0.1) and a stand-in pipeline:
 * each upload under incoming/ is validated by the real validation job code (test/smoke/glue-job.py runs
 * migration_validation.job.run_job with the shipped contracts), and what it writes (the report at
 * reports/<dataset>/<correlationId>.json, the validated/ or quarantine/ copy) is put into s3rver. A PASSED
 * summary starts a local execution of the OrchestrationStack's synthesized state machine against a fake DMS
 * task (test/support/dms-simulator.ts), with the input the Step Functions trigger builds from it. The smoke
 * code's Step Functions calls are answered from those local executions.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import S3rver from 's3rver';
import { correlationIdFor } from '../../lambda/glue-trigger/correlation';
import { executionNameFor } from '../../lambda/sfn-trigger/execution-name';
import { systemClock } from '../../scripts/smoke-test/clock';
import { SMOKE_DATASET, type SmokeConfig } from '../../scripts/smoke-test/config';
import { runSmokeTest } from '../../scripts/smoke-test/smoke';
import { taskError, type AslDefinition } from '../support/asl';
import type { FakeExecution } from './fake-aws';
import {
  simulate,
  synthesizeReplicationWorkflow,
  type DmsScenario,
  type Simulation,
  type SynthesizedWorkflow,
} from '../support/dms-simulator';

const BUCKET = 'migration-data-e2e';
const STATE_MACHINE_ARN = 'arn:aws:states:us-west-2:111111111111:stateMachine:Orchestration';
const FIXTURES = path.join(__dirname, '..', '..', 'scripts', 'smoke-test', 'fixtures');
const GLUE_JOB = path.join(__dirname, 'glue-job.py');
const REPO = path.join(__dirname, '..', '..');

/**
 * The orchestration workflow the smoke test drives: the OrchestrationStack's state machine as
 * synthesized, with its data bucket named like the s3rver bucket. Synthesized once per file.
 */
let workflow: SynthesizedWorkflow | undefined;
function loadOrchestrationWorkflow(): SynthesizedWorkflow {
  workflow ??= synthesizeReplicationWorkflow({ bucketName: BUCKET });
  return workflow;
}
function loadOrchestrationDefinition(): AslDefinition {
  return loadOrchestrationWorkflow().definition;
}

interface LocalExecution extends Omit<FakeExecution, 'script'> {
  visited?: string[];
  simulation?: Simulation;
}

let server: S3rver;
let dir: string;
let s3: S3Client;
const sfn = mockClient(SFNClient);
let executions: LocalExecution[];
let jobSummaries: JobSummary[];
let background: Promise<void>[];
/** The DMS task the next orchestration runs meet (a fresh fake per execution). */
let dmsScenario: DmsScenario;

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
  jobSummaries = [];
  background = [];
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

/** The summary the validation job publishes (its shape: ValidationResult in lambda/shared/events.ts). */
interface JobSummary {
  status: 'PASSED' | 'FAILED';
  dataset: string;
  correlationId: string;
  bucket: string;
  key: string;
  versionId: string | null;
  reportKey: string;
  destinationKey: string;
}

interface JobOutput {
  summary: JobSummary;
  /** Objects the job wrote: its report and the object's copy. */
  writes: { key: string; body: string }[];
}

/** Runs the real validation job on one object (see glue-job.py) and returns what it wrote and published. */
function runValidationJob(key: string, correlationId: string, body: Uint8Array): Promise<JobOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [GLUE_JOB], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`glue-job.py exited with ${code}: ${Buffer.concat(err).toString('utf8')}`));
        return;
      }
      resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as JobOutput);
    });
    child.stdin.end(JSON.stringify({ bucket: BUCKET, key, correlationId, body: Buffer.from(body).toString('base64') }));
  });
}

/** What the Glue job and the Step Functions trigger do with one upload. */
async function processUpload(key: string, correlationId: string): Promise<void> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const { summary, writes } = await runValidationJob(key, correlationId, await object.Body!.transformToByteArray());
  jobSummaries.push(summary);
  for (const write of writes) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: write.key, Body: Buffer.from(write.body, 'base64') }));
  }
  if (summary.status !== 'PASSED') return;

  // The Step Functions trigger's input (lambda/sfn-trigger/start-orchestration.ts).
  const input = {
    correlationId: summary.correlationId,
    dataset: summary.dataset,
    bucket: summary.bucket,
    key: summary.destinationKey,
    versionId: summary.versionId,
    reportKey: summary.reportKey,
  };
  const execution: LocalExecution = {
    executionArn: `arn:aws:states:us-west-2:111111111111:execution:Orchestration:${executionNameFor(correlationId)}`,
    name: executionNameFor(correlationId),
    status: 'RUNNING',
    input: JSON.stringify(input),
    startDate: new Date(),
  };
  executions.push(execution);
  const simulation = await simulate(loadOrchestrationWorkflow(), dmsScenario, input);
  const { run } = simulation;
  Object.assign(execution, {
    status: simulation.status,
    ...(run.output !== undefined ? { output: JSON.stringify(run.output) } : {}),
    stopDate: new Date(),
    visited: run.visited,
    simulation,
    ...(run.error ? { error: run.error } : {}),
    ...(run.cause ? { cause: run.cause } : {}),
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
    // A fresh environment: the DMS task exists and has never been started.
    dmsScenario = { initialStatus: 'ready', fullLoadSeconds: 3600 };

    const { outcome, logs } = smoke('e2e-pass');
    const result = await outcome;

    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['good file', true],
      ['bad file', true],
      ['cleanup', true],
    ]);
    // s3rver has no versioning API, so cleanup falls back to current objects: both uploads, their copies and reports.
    expect(result.checks[2]!.detail).toBe('deleted 6 objects (endpoint lists no versions)');
    // The report the job wrote, at the job's own key for it, is the one the bad-file check read.
    const badRun = jobSummaries.find((j) => j.key === 'incoming/smoke/e2e-pass/bad.csv')!;
    expect(badRun.reportKey).toBe(`reports/smoke/${badRun.correlationId}.json`);
    expect(result.checks[1]!.detail).toBe(
      `quarantined at quarantine/smoke/e2e-pass/bad.csv; report ${badRun.reportKey}: status FAILED, ` +
        `correlation id ${badRun.correlationId}, reasons: header does not match the contract: missing column(s) 'id', 'name'; ` +
        "unexpected column(s) 'identifier', 'full_name'",
    );
    // The validation job matched the good file to the smoke contract, and the trigger passed that on.
    expect(jobSummaries.find((j) => j.key === 'incoming/smoke/e2e-pass/good.csv')).toMatchObject({
      status: 'PASSED',
      dataset: SMOKE_DATASET,
    });
    const goodId = (JSON.parse(executions[0]!.input) as { correlationId: string }).correlationId;
    expect(goodId).toMatch(/^[0-9a-f]{32}$/);
    expect(result.checks[0]!.detail).toContain(`(correlation id ${goodId}); replication task ready, not started`);

    // No DMS call but the describe: nothing started, stopped, modified or reloaded the task.
    const ran = executions[0]!.simulation!;
    const definition = loadOrchestrationDefinition();
    const dmsCalls = ran.sim.calls.filter((c) =>
      String(definition.States[c.state]?.Resource).includes(':databasemigration:'),
    );
    expect(dmsCalls.map((c) => definition.States[c.state]!.Resource)).toEqual([
      'arn:aws:states:::aws-sdk:databasemigration:describeReplicationTasks',
    ]);
    expect(ran.sim.starts).toEqual([]);
    expect(ran.sim.status).toBe('ready');
    expect(ran.waitsEntered).toEqual([]);
    expect(executions[0]!.visited).toEqual([
      'Resolve Replication Task',
      'Describe Replication Task',
      'Task Status?',
      'Publish Smoke Outcome',
      'Smoke Check Result',
      'Smoke Check Passed',
    ]);
    // Through the results topic, without a batch record: nothing was replicated.
    expect(ran.sim.puts).toEqual([]);
    expect(ran.sim.publications).toEqual([
      expect.objectContaining({
        state: 'Publish Smoke Outcome',
        Message: expect.objectContaining({
          status: 'SMOKE_CHECKED',
          correlationId: goodId,
          replicationTaskStatus: 'ready',
        }),
      }),
    ]);
    expect(
      logs.some((l) => l.startsWith('[good] uploaded s3://migration-data-e2e/incoming/smoke/e2e-pass/good.csv')),
    ).toBe(true);
    expect(await allKeys()).toEqual(['validated/sales/keep.csv']);
  });

  it('fails with the execution error when the orchestration fails, and still cleans up', async () => {
    dmsScenario = {
      initialStatus: 'running',
      describeErrors: [taskError('DatabaseMigration.ResourceNotFoundFault', 'replication task not found')],
    };

    const result = await smoke('e2e-fail').outcome;

    expect(result.ok).toBe(false);
    expect(result.checks[0]).toEqual({
      name: 'good file',
      ok: false,
      detail: expect.stringMatching(
        /^expected execution arn:aws:states:.*:execution:Orchestration:[0-9a-f]{32} to reach SUCCEEDED; saw FAILED \(error: DatabaseMigration\.ResourceNotFoundFault; cause: replication task not found\)$/,
      ),
    });
    expect(result.checks[1]!.ok).toBe(true);
    expect(result.checks[2]!.ok).toBe(true);
    expect(await allKeys()).toEqual(['validated/sales/keep.csv']);
  });
});
