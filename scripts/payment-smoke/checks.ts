import {
  DescribeReplicationTasksCommand,
  type DatabaseMigrationServiceClient,
  type ReplicationTask,
} from '@aws-sdk/client-database-migration-service';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../smoke-test/clock';
import { pollUntil, SmokeFailure } from '../smoke-test/poll';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}
/** One GET with a time bound; rejects on network errors and timeouts. */
export type HttpGet = (url: string, timeoutMs: number) => Promise<HttpAnswer>;

export const httpGet: HttpGet = async (url, timeoutMs) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  return { status: res.status, body: (await res.text()).slice(0, 300) };
};

interface Polling {
  readonly clock: Clock;
  readonly pollSeconds: number;
  readonly log: (line: string) => void;
}

/** The service answers 2xx on its health path through the load balancer before the deadline. */
export async function checkHealth(url: string, timeoutSeconds: number, get: HttpGet, p: Polling): Promise<string> {
  const started = p.clock.now();
  const answer = await pollUntil<HttpAnswer>(
    {
      clock: p.clock,
      deadline: started + timeoutSeconds * 1000,
      intervalMs: p.pollSeconds * 1000,
      log: p.log,
      expected: `${url} to answer 2xx`,
    },
    async () => {
      try {
        const a = await get(url, 10_000);
        if (a.status >= 200 && a.status < 300) return { done: true, value: a };
        return { done: false, seen: `HTTP ${a.status}${a.body ? `: ${a.body.slice(0, 120)}` : ''}` };
      } catch (e) {
        return { done: false, seen: `${(e as Error).name}: ${(e as Error).message}` };
      }
    },
  );
  return `HTTP ${answer.status} from ${url}`;
}

/** The task exists and is in one of the expected states. Reads only: it never starts, stops or modifies it. */
export async function checkReplicationTask(
  dms: DatabaseMigrationServiceClient,
  taskArn: string,
  expected: readonly string[],
): Promise<string> {
  let tasks: ReplicationTask[];
  try {
    const out = await dms.send(
      new DescribeReplicationTasksCommand({
        Filters: [{ Name: 'replication-task-arn', Values: [taskArn] }],
        WithoutSettings: true,
      }),
    );
    tasks = out.ReplicationTasks ?? [];
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundFault') tasks = [];
    else throw e;
  }
  const task = tasks.find((t) => t.ReplicationTaskArn === taskArn);
  if (!task) throw new SmokeFailure(`expected DMS task ${taskArn} to exist; DescribeReplicationTasks found none`);
  const status = task.Status ?? 'unknown';
  if (!expected.includes(status)) {
    const why = task.StopReason || task.LastFailureMessage;
    throw new SmokeFailure(
      `expected DMS task ${task.ReplicationTaskIdentifier ?? taskArn} to be ${expected.join(' or ')}; saw ${status}${why ? ` (${why})` : ''}`,
    );
  }
  return `DMS task ${task.ReplicationTaskIdentifier ?? taskArn} is ${status}`;
}

export interface ReplicationProbe {
  readonly source: S3Client;
  readonly replica: S3Client;
  readonly sourceBucket: string;
  readonly replicaBucket: string;
  readonly key: string;
  readonly body: string;
  readonly replicationTimeMinutes: number;
}

/** Puts a probe into the source bucket and waits for the same content in the replica bucket. */
export async function checkLogReplication(probe: ReplicationProbe, p: Polling): Promise<string> {
  const put = await probe.source.send(
    new PutObjectCommand({
      Bucket: probe.sourceBucket,
      Key: probe.key,
      Body: probe.body,
      ContentType: 'application/json',
    }),
  );
  const startedAt = p.clock.now();
  p.log(`put s3://${probe.sourceBucket}/${probe.key}${put.VersionId ? ` (version ${put.VersionId})` : ''}`);
  await pollUntil<true>(
    {
      clock: p.clock,
      deadline: startedAt + probe.replicationTimeMinutes * 60_000,
      intervalMs: p.pollSeconds * 1000,
      log: p.log,
      expected: `s3://${probe.replicaBucket}/${probe.key} within ${probe.replicationTimeMinutes} min (the replication time)`,
    },
    async () => {
      if (await exists(probe.replica, probe.replicaBucket, probe.key)) return { done: true, value: true };
      // S3 marks the source object FAILED when it gives up: no point in waiting for the deadline.
      const head = await probe.source.send(new HeadObjectCommand({ Bucket: probe.sourceBucket, Key: probe.key }));
      if (head.ReplicationStatus === 'FAILED') {
        throw new SmokeFailure(
          `expected ${probe.key} to replicate; S3 reports ReplicationStatus FAILED on the source object`,
        );
      }
      return {
        done: false,
        seen: `not in the replica yet (source ReplicationStatus ${head.ReplicationStatus ?? 'not reported'})`,
      };
    },
  );
  const got = await probe.replica.send(new GetObjectCommand({ Bucket: probe.replicaBucket, Key: probe.key }));
  const text = (await got.Body?.transformToString()) ?? '';
  if (text !== probe.body) {
    throw new SmokeFailure(
      `expected the replica of ${probe.key} to hold what was put; saw ${text.length} different bytes`,
    );
  }
  const seconds = Math.round((p.clock.now() - startedAt) / 1000);
  return `s3://${probe.replicaBucket}/${probe.key} arrived within ${seconds}s with the same content`;
}

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (e as Error).name === 'NotFound' || (e as Error).name === 'NoSuchKey') return false;
    throw e;
  }
}
