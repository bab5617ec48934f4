/**
 * The post-deployment smoke test of a PaymentCutoverStage: the service answers on its health path through each load
 * balancer, the DMS task exists in an expected state, and an object put into the source log bucket reaches the
 * replica bucket within the replication time. It reads DMS and never starts, stops or modifies the task; it has no
 * Route 53 client at all, so it cannot change weights.
 */
import type { DatabaseMigrationServiceClient } from '@aws-sdk/client-database-migration-service';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../smoke-test/clock';
import { SmokeFailure } from '../smoke-test/poll';
import { deleteEverything } from '../smoke-test/objects';
import { checkHealth, checkLogReplication, checkReplicationTask, type HttpGet } from './checks';
import type { PaymentSmokeConfig } from './config';

export interface PaymentSmokeDeps {
  readonly dms: DatabaseMigrationServiceClient;
  /** Client in the stage's Region, for the source bucket. */
  readonly sourceS3: S3Client;
  /** Client in the replica Region. */
  readonly replicaS3: S3Client;
  readonly http: HttpGet;
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

export type PaymentCheckName = 'source health' | 'target health' | 'dms task' | 'log replication' | 'cleanup';

export interface PaymentCheckResult {
  readonly name: PaymentCheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface PaymentSmokeOutcome {
  readonly ok: boolean;
  readonly runId: string;
  readonly checks: PaymentCheckResult[];
}

export async function runPaymentSmoke(
  config: PaymentSmokeConfig,
  deps: PaymentSmokeDeps,
): Promise<PaymentSmokeOutcome> {
  const prefix = `smoke/${config.runId}/`;
  const key = `${prefix}probe.json`;
  const polling = (tag: string) => ({
    clock: deps.clock,
    pollSeconds: config.pollSeconds,
    log: (line: string) => deps.log(`[${tag}] ${line}`),
  });
  const settled = await Promise.allSettled([
    checkHealth(config.sourceHealthUrl, config.healthTimeoutSeconds, deps.http, polling('source health')),
    checkHealth(config.targetHealthUrl, config.healthTimeoutSeconds, deps.http, polling('target health')),
    checkReplicationTask(deps.dms, config.replicationTaskArn, config.expectedTaskStatuses),
    checkLogReplication(
      {
        source: deps.sourceS3,
        replica: deps.replicaS3,
        sourceBucket: config.sourceBucket,
        replicaBucket: config.replicaBucket,
        key,
        body: JSON.stringify({ smoke: true, runId: config.runId, at: new Date(deps.clock.now()).toISOString() }),
        replicationTimeMinutes: config.replicationTimeMinutes,
      },
      polling('log replication'),
    ),
  ]);
  const names: PaymentCheckName[] = ['source health', 'target health', 'dms task', 'log replication'];
  const checks = settled.map((r, i) => toResult(names[i]!, r));
  checks.push(await cleanUp(config, deps, prefix));
  return { ok: checks.every((c) => c.ok), runId: config.runId, checks };
}

function toResult(name: PaymentCheckName, r: PromiseSettledResult<string>): PaymentCheckResult {
  if (r.status === 'fulfilled') return { name, ok: true, detail: r.value };
  const e = r.reason as Error;
  return { name, ok: false, detail: e instanceof SmokeFailure ? e.message : `${e.name}: ${e.message}` };
}

/** Removes the probe from both buckets (every version: deleting in the source alone would leave the replica's). */
async function cleanUp(
  config: PaymentSmokeConfig,
  deps: PaymentSmokeDeps,
  prefix: string,
): Promise<PaymentCheckResult> {
  const done: string[] = [];
  const failed: string[] = [];
  for (const [s3, bucket] of [
    [deps.sourceS3, config.sourceBucket],
    [deps.replicaS3, config.replicaBucket],
  ] as const) {
    try {
      // Every version and delete marker: a plain delete would leave the versions (and replicate a delete marker).
      const result = await deleteEverything(s3, bucket, { prefixes: [prefix], keys: [] });
      if (result.errors.length) failed.push(`${bucket}: ${result.errors.join('; ')}`);
      else done.push(`${result.deleted} ${result.versioned ? 'object versions' : 'objects'} from ${bucket}`);
    } catch (e) {
      failed.push(`${bucket}: ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
  return failed.length
    ? {
        name: 'cleanup',
        ok: false,
        detail: `expected to delete ${prefix} in both buckets; failed for ${failed.join('; ')}`,
      }
    : { name: 'cleanup', ok: true, detail: `deleted ${done.join(', ')} under ${prefix}` };
}
