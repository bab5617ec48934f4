/**
 * Smoke-test settings, read from the environment the pipeline's post-deployment step provides
 * (stack outputs as variables). Every problem is reported at once, by variable name.
 */
/**
 * The dataset the good and bad files belong to (the contract glue/contracts/smoke.json, keys
 * incoming/smoke/**): the workflow observes the DMS task for it and never starts it. Kept in step
 * with OrchestrationStack's SMOKE_DATASET by a test.
 */
export const SMOKE_DATASET = 'smoke';

export interface SmokeConfig {
  /** Data bucket of the deployed MigrationStage (`DATA_BUCKET_NAME`). */
  readonly bucket: string;
  /** Orchestration state machine (`STATE_MACHINE_ARN`). */
  readonly stateMachineArn: string;
  /** `AWS_REGION`; must be the state machine's region. @default the region in STATE_MACHINE_ARN */
  readonly region: string;
  /** Bound on the whole run, good and bad file together (`SMOKE_TIMEOUT_SECONDS`). @default 900 */
  readonly timeoutSeconds: number;
  /** Pause between looks (`SMOKE_POLL_SECONDS`). @default 15 */
  readonly pollSeconds: number;
  /** Role in the target account to assume first (`SMOKE_ROLE_ARN`). @default the ambient credentials */
  readonly roleArn?: string;
  /** Names this run's objects: `incoming/smoke/<runId>/…` (`SMOKE_RUN_ID`). @default time + random suffix */
  readonly runId: string;
}

export class SmokeConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Smoke test configuration is invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'SmokeConfigError';
  }
}

const STATE_MACHINE_ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):stateMachine:[A-Za-z0-9_-]{1,80}$/;
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/[\w+=,.@\-/]{1,512}$/;
// S3 bucket naming rules, in short: 3–63 lowercase letters, digits, dots and hyphens.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function parseSmokeConfig(env: NodeJS.ProcessEnv, newRunId: () => string = defaultRunId): SmokeConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) problems.push(`${name} is not set`);
    return v ?? '';
  };
  const seconds = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} is '${raw}', expected a whole number of seconds from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };

  const bucket = required('DATA_BUCKET_NAME');
  if (bucket && !BUCKET.test(bucket)) problems.push(`DATA_BUCKET_NAME '${bucket}' is not a valid bucket name`);
  const stateMachineArn = required('STATE_MACHINE_ARN');
  const sm = STATE_MACHINE_ARN.exec(stateMachineArn);
  // CodeBuild sets AWS_REGION to the build's region, which need not be the stage's: a mismatch is an error.
  const region = env.AWS_REGION?.trim() || sm?.[2] || '';
  if (stateMachineArn && !sm) {
    problems.push(
      `STATE_MACHINE_ARN '${stateMachineArn}' is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`,
    );
  } else if (sm && region && sm[2] !== region) {
    problems.push(`STATE_MACHINE_ARN is in ${sm[2]} but AWS_REGION is ${region}`);
  }

  const roleArn = env.SMOKE_ROLE_ARN?.trim() || undefined;
  if (roleArn) {
    const role = ROLE_ARN.exec(roleArn);
    if (!role) problems.push(`SMOKE_ROLE_ARN '${roleArn}' is not an IAM role ARN`);
    // The test must act inside the target account, never as the pipeline account.
    else if (sm && role[2] !== sm[3]) {
      problems.push(
        `SMOKE_ROLE_ARN is in account ${role[2]} but the state machine is in ${sm[3]}; use a role in the target account`,
      );
    }
  }

  const timeoutSeconds = seconds('SMOKE_TIMEOUT_SECONDS', 900, 1, 3 * 3600);
  const pollSeconds = seconds('SMOKE_POLL_SECONDS', 15, 1, 600);
  const runId = env.SMOKE_RUN_ID?.trim() || newRunId();
  if (!RUN_ID.test(runId))
    problems.push(`SMOKE_RUN_ID '${runId}' may hold only letters, digits, '-' and '_' (at most 64)`);

  if (problems.length) throw new SmokeConfigError(problems);
  return { bucket, stateMachineArn, region, timeoutSeconds, pollSeconds, runId, ...(roleArn ? { roleArn } : {}) };
}

/** e.g. 20261122T153012Z-4f1a9c: sortable, and unique enough for parallel pipeline runs. */
export function defaultRunId(now = new Date(), random = Math.random): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const suffix = Math.floor(random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
  return `${stamp}-${suffix}`;
}
