import { defaultRunId } from '../smoke-test/config';

/**
 * Settings of the payment stage's smoke test, from the environment the pipeline's post-deployment step provides
 * (stack outputs as variables). Every problem is reported at once, by variable name.
 */
export interface PaymentSmokeConfig {
  /** Health URL through the source load balancer (`SOURCE_HEALTH_URL`). */
  readonly sourceHealthUrl: string;
  /** Health URL through the target load balancer (`TARGET_HEALTH_URL`). */
  readonly targetHealthUrl: string;
  /** The source → target DMS task (`REPLICATION_TASK_ARN`). */
  readonly replicationTaskArn: string;
  /** States the task may be in (`DMS_EXPECTED_STATUSES`, comma separated). @default ready, running */
  readonly expectedTaskStatuses: readonly string[];
  /** Source transaction-log bucket (`SOURCE_LOG_BUCKET`). */
  readonly sourceBucket: string;
  /** Replica bucket in the second Region (`REPLICA_BUCKET`). */
  readonly replicaBucket: string;
  /** Region of the replica bucket (`REPLICA_REGION`); must differ from `region`. */
  readonly replicaRegion: string;
  /** How long replication may take (`REPLICATION_TIME_MINUTES`). @default 15 (S3 Replication Time Control) */
  readonly replicationTimeMinutes: number;
  /** `AWS_REGION`: the stage's Region. @default the Region in REPLICATION_TASK_ARN */
  readonly region: string;
  /** Role in the stage's account to assume first (`SMOKE_ROLE_ARN`). @default the ambient credentials */
  readonly roleArn?: string;
  /** How long each health URL may take to answer 2xx (`SMOKE_HEALTH_TIMEOUT_SECONDS`). @default 120 */
  readonly healthTimeoutSeconds: number;
  /** Pause between looks (`SMOKE_POLL_SECONDS`). @default 15 */
  readonly pollSeconds: number;
  /** Names this run's object: `smoke/<runId>/probe.json` (`SMOKE_RUN_ID`). @default time + random suffix */
  readonly runId: string;
}

export class PaymentSmokeConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Payment smoke test configuration is invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'PaymentSmokeConfigError';
  }
}

const TASK_ARN = /^arn:(aws[a-z-]*):dms:([a-z0-9-]+):(\d{12}):task:[A-Za-z0-9-]+$/;
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/[\w+=,.@\-/]{1,512}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** DMS task states (DescribeReplicationTasks `Status`). */
const TASK_STATUSES = [
  'moving',
  'creating',
  'deleting',
  'failed',
  'failed-move',
  'modifying',
  'ready',
  'running',
  'starting',
  'stopped',
  'stopping',
  'testing',
];

export function parsePaymentSmokeConfig(
  env: NodeJS.ProcessEnv,
  newRunId: () => string = defaultRunId,
): PaymentSmokeConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) problems.push(`${name} is not set`);
    return v ?? '';
  };
  const whole = (name: string, fallback: number, min: number, max: number, unit: string): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} is '${raw}', expected a whole number of ${unit} from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const url = (name: string): string => {
    const raw = required(name);
    if (!raw) return raw;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      problems.push(`${name} '${raw}' is not an http(s) URL (e.g. https://<load balancer>/health)`);
    }
    return raw;
  };
  const bucket = (name: string): string => {
    const v = required(name);
    if (v && !BUCKET.test(v)) problems.push(`${name} '${v}' is not a valid bucket name`);
    return v;
  };

  const sourceHealthUrl = url('SOURCE_HEALTH_URL');
  const targetHealthUrl = url('TARGET_HEALTH_URL');
  const replicationTaskArn = required('REPLICATION_TASK_ARN');
  const task = TASK_ARN.exec(replicationTaskArn);
  if (replicationTaskArn && !task) {
    problems.push(
      `REPLICATION_TASK_ARN '${replicationTaskArn}' is not a DMS task ARN (arn:aws:dms:<region>:<account>:task:<id>)`,
    );
  }
  // CodeBuild sets AWS_REGION to the build's Region, which need not be the stage's: a mismatch is an error.
  const region = env.AWS_REGION?.trim() || task?.[2] || '';
  if (task && region && task[2] !== region)
    problems.push(`REPLICATION_TASK_ARN is in ${task[2]} but AWS_REGION is ${region}`);
  if (!region) problems.push('AWS_REGION is not set and REPLICATION_TASK_ARN names no Region');

  const sourceBucket = bucket('SOURCE_LOG_BUCKET');
  const replicaBucket = bucket('REPLICA_BUCKET');
  if (sourceBucket && sourceBucket === replicaBucket)
    problems.push('REPLICA_BUCKET is the same bucket as SOURCE_LOG_BUCKET');
  const replicaRegion = required('REPLICA_REGION');
  if (replicaRegion && !REGION.test(replicaRegion))
    problems.push(`REPLICA_REGION '${replicaRegion}' is not a Region name`);
  else if (replicaRegion && replicaRegion === region) {
    problems.push(`REPLICA_REGION is ${replicaRegion}, the stage's own Region; the replica must be in another Region`);
  }

  const rawStatuses = env.DMS_EXPECTED_STATUSES?.trim();
  const expectedTaskStatuses = rawStatuses
    ? rawStatuses
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : ['ready', 'running'];
  const unknown = expectedTaskStatuses.filter((s) => !TASK_STATUSES.includes(s));
  if (unknown.length)
    problems.push(
      `DMS_EXPECTED_STATUSES has unknown state(s) ${unknown.join(', ')}; known: ${TASK_STATUSES.join(', ')}`,
    );

  const roleArn = env.SMOKE_ROLE_ARN?.trim() || undefined;
  if (roleArn) {
    const role = ROLE_ARN.exec(roleArn);
    if (!role) problems.push(`SMOKE_ROLE_ARN '${roleArn}' is not an IAM role ARN`);
    else if (task && role[2] !== task[3]) {
      problems.push(
        `SMOKE_ROLE_ARN is in account ${role[2]} but the DMS task is in ${task[3]}; use a role in the stage's account`,
      );
    }
  }

  const replicationTimeMinutes = whole('REPLICATION_TIME_MINUTES', 15, 1, 24 * 60, 'minutes');
  const healthTimeoutSeconds = whole('SMOKE_HEALTH_TIMEOUT_SECONDS', 120, 1, 3600, 'seconds');
  const pollSeconds = whole('SMOKE_POLL_SECONDS', 15, 1, 600, 'seconds');
  const runId = env.SMOKE_RUN_ID?.trim() || newRunId();
  if (!RUN_ID.test(runId))
    problems.push(`SMOKE_RUN_ID '${runId}' may hold only letters, digits, '-' and '_' (at most 64)`);

  if (problems.length) throw new PaymentSmokeConfigError(problems);
  return {
    sourceHealthUrl,
    targetHealthUrl,
    replicationTaskArn,
    expectedTaskStatuses,
    sourceBucket,
    replicaBucket,
    replicaRegion,
    replicationTimeMinutes,
    region,
    healthTimeoutSeconds,
    pollSeconds,
    runId,
    ...(roleArn ? { roleArn } : {}),
  };
}
