/**
 * The post-deployment smoke test of a MigrationStage: a known-good file must travel
 * incoming/ → validation → Step Functions execution → SUCCEEDED, and a known-bad file must be
 * quarantined with a FAILED report. Everything it wrote is deleted afterwards, pass or fail.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Clock } from './clock';
import { SMOKE_DATASET } from './config';
import type { SmokeConfig } from './config';
import {
  describe,
  describeIfStarted,
  executionArnFor,
  findExecution,
  parseInput,
  parseSmokeCheck,
  type ExecutionDescription,
} from './executions';
import {
  deleteEverything,
  findReport,
  findReports,
  objectExists,
  putObject,
  reportCorrelationId,
  smokeKeys,
  type FoundReport,
  type SmokeKeys,
  type ValidationReport,
} from './objects';
import { pollUntil, SmokeFailure } from './poll';

export interface SmokeDeps {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly fixtures: { readonly good: string | Uint8Array; readonly bad: string | Uint8Array };
  /**
   * How the Glue trigger derives a correlation id from bucket, key and version. When given (and
   * the bucket returned a version id), the execution input and the bad file's report must carry
   * exactly that id; without it they must carry a non-empty one.
   */
  readonly correlationIdOf?: (bucket: string, key: string, versionId: string | undefined) => string;
  /**
   * How the Step Functions trigger names the execution for a correlation id. With both derivations
   * and a version id, the execution is described by name; otherwise it is found by listing.
   */
  readonly executionNameOf?: (correlationId: string) => string;
}

export type CheckName = 'good file' | 'bad file' | 'cleanup';

export interface CheckResult {
  readonly name: CheckName;
  readonly ok: boolean;
  /** What was seen when it passed; what was expected and seen when it failed. */
  readonly detail: string;
}

export interface SmokeOutcome {
  readonly ok: boolean;
  readonly runId: string;
  readonly checks: CheckResult[];
}

/** Executions and reports are stamped by AWS clocks; allow this much difference from ours. */
const CLOCK_SKEW_MS = 5 * 60_000;

interface Run {
  readonly config: SmokeConfig;
  readonly deps: SmokeDeps;
  readonly keys: SmokeKeys;
  readonly since: number;
  readonly deadline: number;
  /** Reports found outside this run's prefixes, deleted at the end. */
  readonly extraKeys: Set<string>;
  /** Reports already read, shared by both checks. */
  readonly reports: Map<string, ValidationReport | null>;
}

export async function runSmokeTest(config: SmokeConfig, deps: SmokeDeps): Promise<SmokeOutcome> {
  const start = deps.clock.now();
  const run: Run = {
    config,
    deps,
    keys: smokeKeys(config.runId),
    since: start - CLOCK_SKEW_MS,
    deadline: start + config.timeoutSeconds * 1000,
    extraKeys: new Set(),
    reports: new Map(),
  };
  deps.log(
    `smoke run ${config.runId}: bucket ${config.bucket}, state machine ${config.stateMachineArn}, ` +
      `bound ${config.timeoutSeconds}s, polling every ${config.pollSeconds}s`,
  );

  const checks: CheckResult[] = [];
  try {
    const [good, bad] = await Promise.allSettled([checkGoodFile(run), checkBadFile(run)]);
    checks.push(settle('good file', good), settle('bad file', bad));
  } finally {
    checks.push(await cleanUp(run));
  }
  return { ok: checks.every((c) => c.ok), runId: config.runId, checks };
}

function settle(name: CheckName, r: PromiseSettledResult<string>): CheckResult {
  if (r.status === 'fulfilled') return { name, ok: true, detail: r.value };
  const e = r.reason as Error;
  return { name, ok: false, detail: e instanceof SmokeFailure ? e.message : `${e.name}: ${e.message}` };
}

async function checkGoodFile(run: Run): Promise<string> {
  const { config, deps, keys } = run;
  const log = (line: string) => deps.log(`[good] ${line}`);
  const { versionId } = await putObject(deps.s3, config.bucket, keys.goodIncoming, deps.fixtures.good);
  log(`uploaded s3://${config.bucket}/${keys.goodIncoming}${versionId ? ` (version ${versionId})` : ''}`);

  const examined = new Set<string>();
  const expectedArn =
    deps.correlationIdOf && deps.executionNameOf && versionId
      ? executionArnFor(
          config.stateMachineArn,
          deps.executionNameOf(deps.correlationIdOf(config.bucket, keys.goodIncoming, versionId)),
        )
      : undefined;
  const execution = await pollUntil<ExecutionDescription>(
    {
      clock: deps.clock,
      deadline: run.deadline,
      intervalMs: config.pollSeconds * 1000,
      log,
      expected: `an execution of ${config.stateMachineArn} whose input names s3://${config.bucket}/${keys.goodValidated}`,
    },
    async () => {
      const named = expectedArn ? await describeIfStarted(deps.sfn, expectedArn) : undefined;
      if (named) return { done: true, value: named };
      // Not under the derived name (yet, or the naming changed): look through recent executions.
      const { found, listed } = await findExecution(
        deps.sfn,
        config.stateMachineArn,
        config.bucket,
        [keys.goodValidated, keys.goodIncoming],
        run.since,
        examined,
      );
      if (found) return { done: true, value: found };
      await failIfGoodFileQuarantined(run);
      return { done: false, seen: `no execution for it among ${listed} started since ${iso(run.since)}` };
    },
  );
  const input = parseInput(execution.input) ?? {};
  if (input.bucket !== config.bucket || (input.key !== keys.goodValidated && input.key !== keys.goodIncoming)) {
    throw new SmokeFailure(
      `expected execution ${execution.executionArn} to work on s3://${config.bucket}/${keys.goodValidated}; ` +
        `saw input bucket ${input.bucket ?? 'missing'}, key ${input.key ?? 'missing'}`,
    );
  }
  if (input.reportKey) run.extraKeys.add(input.reportKey);
  log(`found execution ${execution.name} (${execution.executionArn})`);
  checkCorrelationId(
    run,
    `the input of execution ${execution.name}`,
    input.correlationId,
    keys.goodIncoming,
    versionId,
  );

  let fresh: ExecutionDescription | undefined = execution; // the first look reuses what findExecution described
  const final = await pollUntil<ExecutionDescription>(
    {
      clock: deps.clock,
      deadline: run.deadline,
      intervalMs: config.pollSeconds * 1000,
      log,
      expected: `execution ${execution.name} to reach SUCCEEDED`,
    },
    async () => {
      const d = fresh ?? (await describe(deps.sfn, execution.executionArn!));
      fresh = undefined;
      if (d.status === 'SUCCEEDED') return { done: true, value: d };
      if (d.status === 'RUNNING') return { done: false, seen: `execution ${execution.name} is RUNNING` };
      const why = d.error || d.cause ? ` (error: ${d.error ?? '-'}; cause: ${truncate(d.cause ?? '-', 500)})` : '';
      throw new SmokeFailure(`expected execution ${d.executionArn} to reach SUCCEEDED; saw ${d.status}${why}`);
    },
  );
  const took =
    final.startDate && final.stopDate ? ` in ${Math.round((+final.stopDate - +final.startDate) / 1000)}s` : '';
  // The smoke batch must take the workflow's smoke path: observe the DMS task, never start it.
  const check = parseSmokeCheck(final.output);
  if (!check?.replicationTaskStatus || check.replicationStarted !== false) {
    throw new SmokeFailure(
      `expected execution ${final.name} to end on the smoke path (output.smokeCheck with the observed task status and ` +
        `replicationStarted false); saw output ${truncate(final.output ?? 'none', 300)}. Is the good file's dataset '${SMOKE_DATASET}'?`,
    );
  }
  return (
    `execution ${final.name} SUCCEEDED${took} (correlation id ${input.correlationId ?? 'unknown'}); ` +
    `replication task ${check.replicationTaskStatus}, not started`
  );
}

/** A good file that fails validation never starts an execution: say so instead of timing out. */
async function failIfGoodFileQuarantined(run: Run): Promise<void> {
  const { config, deps, keys } = run;
  if (!(await objectExists(deps.s3, config.bucket, keys.goodQuarantined))) return;
  const found = await findReport(
    deps.s3,
    config.bucket,
    keys.reportsPrefix,
    [keys.goodIncoming, keys.goodQuarantined],
    run.since,
    run.reports,
  );
  if (found) run.extraKeys.add(found.reportKey);
  throw new SmokeFailure(
    `expected ${keys.goodIncoming} to pass validation and start an execution; saw it quarantined at ${keys.goodQuarantined}` +
      (found ? ` with report ${found.reportKey}: ${describeReport(found.report)}` : ' (no report found)'),
  );
}

async function checkBadFile(run: Run): Promise<string> {
  const { config, deps, keys } = run;
  const log = (line: string) => deps.log(`[bad] ${line}`);
  const { versionId } = await putObject(deps.s3, config.bucket, keys.badIncoming, deps.fixtures.bad);
  log(`uploaded s3://${config.bucket}/${keys.badIncoming}${versionId ? ` (version ${versionId})` : ''}`);

  const found = await pollUntil<FoundReport>(
    {
      clock: deps.clock,
      deadline: run.deadline,
      intervalMs: config.pollSeconds * 1000,
      log,
      expected: `${keys.badIncoming} quarantined at ${keys.badQuarantined} and a FAILED report under ${keys.reportsPrefix} naming its correlation id`,
    },
    async () => {
      const report = await findReport(
        deps.s3,
        config.bucket,
        keys.reportsPrefix,
        [keys.badIncoming, keys.badQuarantined, keys.badValidated],
        run.since,
        run.reports,
      );
      if (report) {
        run.extraKeys.add(report.reportKey);
        if (report.report.status !== 'FAILED') {
          throw new SmokeFailure(
            `expected a FAILED report for ${keys.badIncoming}; saw ${report.reportKey}: ${describeReport(report.report)}`,
          );
        }
      }
      const quarantined = await objectExists(deps.s3, config.bucket, keys.badQuarantined);
      if (!quarantined && (await objectExists(deps.s3, config.bucket, keys.badValidated))) {
        throw new SmokeFailure(`expected ${keys.badIncoming} to be quarantined; saw it copied to ${keys.badValidated}`);
      }
      if (report && quarantined) return { done: true, value: report };
      const reportSeen = report ? `report ${report.reportKey} is FAILED` : 'no report yet';
      return { done: false, seen: `${quarantined ? 'quarantined' : 'not quarantined yet'}, ${reportSeen}` };
    },
  );
  checkCorrelationId(run, `report ${found.reportKey}`, reportCorrelationId(found.report), keys.badIncoming, versionId);
  return `quarantined at ${keys.badQuarantined}; report ${found.reportKey}: ${describeReport(found.report)}`;
}

function checkCorrelationId(
  run: Run,
  where: string,
  seen: string | undefined,
  sourceKey: string,
  versionId: string | undefined,
): void {
  const derive = run.deps.correlationIdOf;
  if (derive && versionId) {
    const expected = derive(run.config.bucket, sourceKey, versionId);
    if (seen !== expected) {
      throw new SmokeFailure(`expected ${where} to carry correlation id ${expected}; saw ${seen ?? 'none'}`);
    }
  } else if (typeof seen !== 'string' || seen.trim() === '') {
    throw new SmokeFailure(`expected ${where} to carry a correlation id; saw ${JSON.stringify(seen) ?? 'none'}`);
  }
}

async function cleanUp(run: Run): Promise<CheckResult> {
  const { config, deps, keys } = run;
  try {
    // Reports are named by correlation id, not by run: also sweep up those no check got as far as finding.
    const leftovers = await findReports(deps.s3, config.bucket, keys.reportsPrefix, keys.all, run.since, run.reports);
    for (const found of leftovers) run.extraKeys.add(found.reportKey);
    const result = await deleteEverything(deps.s3, config.bucket, {
      prefixes: keys.runPrefixes,
      keys: [...run.extraKeys],
    });
    const note = result.versioned ? 'object versions' : 'objects (endpoint lists no versions)';
    deps.log(`[cleanup] deleted ${result.deleted} ${note}`);
    if (result.errors.length) {
      return {
        name: 'cleanup',
        ok: false,
        detail: `expected to delete everything; failed for: ${result.errors.join('; ')}`,
      };
    }
    return { name: 'cleanup', ok: true, detail: `deleted ${result.deleted} ${note}` };
  } catch (e) {
    const err = e as Error;
    return {
      name: 'cleanup',
      ok: false,
      detail: `expected to delete this run's objects; saw ${err.name}: ${err.message}`,
    };
  }
}

function describeReport(r: ValidationReport): string {
  const reasons = Array.isArray(r.reasons) ? r.reasons.map(String) : [];
  return (
    `status ${r.status ?? 'missing'}, correlation id ${reportCorrelationId(r) ?? 'missing'}` +
    (reasons.length ? `, reasons: ${truncate(reasons.join('; '), 300)}` : '')
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
