/**
 * The payment smoke test against local fakes: s3rver on 127.0.0.1 holds both buckets (the test copies each probe
 * into the replica bucket itself, as S3 replication would, or never does), a local HTTP server answers the health
 * paths, and aws-sdk-client-mock stands in for DMS. A virtual clock makes the waits take no real time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  DatabaseMigrationServiceClient,
  DescribeReplicationTasksCommand,
  ModifyReplicationTaskCommand,
  StartReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import S3rver from 's3rver';
import type { Clock } from '../../scripts/smoke-test/clock';
import { httpGet } from '../../scripts/payment-smoke/checks';
import type { PaymentSmokeConfig } from '../../scripts/payment-smoke/config';
import { runPaymentSmoke } from '../../scripts/payment-smoke/smoke';

const SOURCE = 'payments-logs';
const REPLICA = 'payments-logs-replica';
const TASK = 'arn:aws:dms:us-east-1:111111111111:task:PAYMENTSTASK';

let s3server: S3rver;
let dir: string;
let s3: S3Client;
let http: Server;
let baseUrl: string;
/** Status each health path answers with. */
const health: Record<string, number> = {};
/** Whether the fake replication copies new source objects to the replica bucket. */
let replicating = true;
let copies: Promise<unknown>[] = [];
const dms = mockClient(DatabaseMigrationServiceClient);

/** Virtual time: sleeping advances it and yields briefly to let the fakes work. */
function virtualClock(): Clock & { elapsedMs: () => number } {
  let now = Date.UTC(2026, 11, 5, 12);
  const start = now;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await new Promise((r) => setTimeout(r, 5));
    },
    elapsedMs: () => now - start,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 's3rver-payment-'));
  s3server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: SOURCE }, { name: REPLICA }],
  });
  const { port } = await s3server.run();
  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  s3server.on('event', (event) => {
    for (const record of event.Records) {
      if (!replicating || record.eventName !== 'ObjectCreated:Put' || record.s3.bucket.name !== SOURCE) continue;
      const key = decodeURIComponent(record.s3.object.key);
      copies.push(
        (async () => {
          const got = await s3.send(new GetObjectCommand({ Bucket: SOURCE, Key: key }));
          const body = await got.Body!.transformToString();
          await s3.send(new PutObjectCommand({ Bucket: REPLICA, Key: key, Body: body }));
        })(),
      );
    }
  });
  http = createServer((req, res) => {
    const status = health[req.url ?? ''] ?? 404;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'unhealthy');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const address = http.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  dms.restore();
  await s3server.close();
  await new Promise((r) => http.close(r));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  replicating = true;
  copies = [];
  health['/source/health'] = 200;
  health['/target/health'] = 200;
  dms.reset();
  dms.on(DescribeReplicationTasksCommand).resolves({
    ReplicationTasks: [{ ReplicationTaskArn: TASK, ReplicationTaskIdentifier: 'payments-dev', Status: 'running' }],
  });
});

const config = (runId: string, overrides: Partial<PaymentSmokeConfig> = {}): PaymentSmokeConfig => ({
  sourceHealthUrl: `${baseUrl}/source/health`,
  targetHealthUrl: `${baseUrl}/target/health`,
  replicationTaskArn: TASK,
  expectedTaskStatuses: ['ready', 'running'],
  sourceBucket: SOURCE,
  replicaBucket: REPLICA,
  replicaRegion: 'us-west-2',
  replicationTimeMinutes: 15,
  region: 'us-east-1',
  healthTimeoutSeconds: 120,
  pollSeconds: 15,
  runId,
  ...overrides,
});

async function run(runId: string, overrides: Partial<PaymentSmokeConfig> = {}) {
  const clock = virtualClock();
  const lines: string[] = [];
  const outcome = await runPaymentSmoke(config(runId, overrides), {
    dms: new DatabaseMigrationServiceClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
    sourceS3: s3,
    replicaS3: s3,
    http: httpGet,
    clock,
    log: (l) => lines.push(l),
  });
  await Promise.all(copies);
  const detail = Object.fromEntries(outcome.checks.map((c) => [c.name, c]));
  return { outcome, detail, lines, clock };
}

async function keysIn(bucket: string, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

function expectDmsOnlyRead(): void {
  expect(dms).toHaveReceivedCommandWith(DescribeReplicationTasksCommand, {
    Filters: [{ Name: 'replication-task-arn', Values: [TASK] }],
  });
  // Nothing but reads: no Start, Stop, Modify, Reload or anything else.
  expect(new Set(dms.calls().map((c) => (c.args[0] as object).constructor.name))).toEqual(
    new Set(['DescribeReplicationTasksCommand']),
  );
  expect(dms).not.toHaveReceivedCommand(StartReplicationTaskCommand);
  expect(dms).not.toHaveReceivedCommand(ModifyReplicationTaskCommand);
}

describe('payment smoke test', () => {
  it('passes when both services answer, the task runs and the probe reaches the replica; then cleans up', async () => {
    const { outcome, detail } = await run('ok-run');
    expect(outcome.checks.map((c) => [c.name, c.ok])).toEqual([
      ['source health', true],
      ['target health', true],
      ['dms task', true],
      ['log replication', true],
      ['cleanup', true],
    ]);
    expect(detail['dms task']!.detail).toBe('DMS task payments-dev is running');
    expect(detail['log replication']!.detail).toMatch(
      /smoke\/ok-run\/probe\.json arrived within \d+s with the same content/,
    );
    expectDmsOnlyRead();
    expect(await keysIn(SOURCE, 'smoke/ok-run/')).toEqual([]);
    expect(await keysIn(REPLICA, 'smoke/ok-run/')).toEqual([]);
  });

  it('fails when the probe never reaches the replica within the replication time, and says so', async () => {
    replicating = false;
    const { outcome, detail, clock } = await run('lost-run', { replicationTimeMinutes: 2 });
    expect(outcome.ok).toBe(false);
    expect(detail['log replication']).toEqual({
      name: 'log replication',
      ok: false,
      detail: expect.stringMatching(
        /^expected s3:\/\/payments-logs-replica\/smoke\/lost-run\/probe\.json within 2 min \(the replication time\); gave up after \d+s; last seen: not in the replica yet/,
      ),
    });
    // Bounded: it waited the replication time (virtual), not longer.
    expect(clock.elapsedMs()).toBeLessThanOrEqual(2 * 60_000 + 120_000);
    expect(detail['source health']!.ok).toBe(true);
    expect(await keysIn(SOURCE, 'smoke/lost-run/')).toEqual([]);
  });

  it('fails the target check when the target answers 503, naming what it saw', async () => {
    health['/target/health'] = 503;
    const { detail } = await run('unhealthy-run', { healthTimeoutSeconds: 60 });
    expect(detail['source health']!.ok).toBe(true);
    expect(detail['target health']).toEqual({
      name: 'target health',
      ok: false,
      detail: expect.stringMatching(
        /^expected http:\/\/127\.0\.0\.1:\d+\/target\/health to answer 2xx; gave up after \d+s; last seen: HTTP 503: unhealthy$/,
      ),
    });
  });

  it('waits for a service that becomes healthy within its bound', async () => {
    health['/source/health'] = 503;
    setTimeout(() => (health['/source/health'] = 200), 20);
    const { detail } = await run('late-run');
    expect(detail['source health']!.ok).toBe(true);
  });

  it.each([
    ['failed', 'expected DMS task payments-dev to be ready or running; saw failed (Last Error Task error)'],
    [
      'stopped',
      'expected DMS task payments-dev to be ready or running; saw stopped (Stop Reason FULL_LOAD_ONLY_FINISHED)',
    ],
  ])('fails on a task that is %s and does not touch it', async (status, message) => {
    dms.on(DescribeReplicationTasksCommand).resolves({
      ReplicationTasks: [
        {
          ReplicationTaskArn: TASK,
          ReplicationTaskIdentifier: 'payments-dev',
          Status: status,
          ...(status === 'failed'
            ? { LastFailureMessage: 'Last Error Task error' }
            : { StopReason: 'Stop Reason FULL_LOAD_ONLY_FINISHED' }),
        },
      ],
    });
    const { detail } = await run(`dms-${status}`);
    expect(detail['dms task']).toEqual({ name: 'dms task', ok: false, detail: message });
    expectDmsOnlyRead();
  });

  it('fails when the task does not exist', async () => {
    dms
      .on(DescribeReplicationTasksCommand)
      .rejects(Object.assign(new Error('No Tasks found'), { name: 'ResourceNotFoundFault' }));
    const { detail } = await run('dms-missing');
    expect(detail['dms task']!.detail).toBe(`expected DMS task ${TASK} to exist; DescribeReplicationTasks found none`);
    expectDmsOnlyRead();
  });
});

describe('what the payment smoke test can do at all', () => {
  it('has no Route 53 client and no DMS command but DescribeReplicationTasks in its source', () => {
    const { readdirSync, readFileSync } = jest.requireActual<typeof import('node:fs')>('node:fs');
    const folder = path.join(__dirname, '..', '..', 'scripts', 'payment-smoke');
    const source = readdirSync(folder)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(path.join(folder, f), 'utf8'))
      .join('\n');
    expect(source).not.toMatch(/client-route-53/);
    const dmsCommands = [...source.matchAll(/\b([A-Z][A-Za-z]+Command)\b/g)]
      .map((m) => m[1]!)
      .filter((c) => /Replication|Task|Table/.test(c));
    expect(new Set(dmsCommands)).toEqual(new Set(['DescribeReplicationTasksCommand']));
  });
});
