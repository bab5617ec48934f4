/**
 * Judges what the workflow read from AWS (SDK integrations do the reading; this file only decides).
 * Every decision names the check that failed and why, so the report can go to the approver as is.
 */
import type { Thresholds } from './plan';

export type CheckName =
  | 'dms-task-running'
  | 'cdc-latency-source'
  | 'cdc-latency-target'
  | 'validation'
  | 'target-healthy'
  | 'alarms'
  | 'fence'
  | 'traffic-split'
  | 'reverse-task-ready';

export interface Check {
  readonly name: CheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface CheckReport {
  readonly kind: string;
  readonly ok: boolean;
  /** Names of the failed checks, in the order they were made. */
  readonly failed: CheckName[];
  readonly checks: Check[];
  readonly summary: string;
}

/** The parts of the AWS answers read here, as the SDK integrations return them. */
export interface MetricDataResult {
  readonly Id?: string;
  readonly Timestamps?: string[];
  readonly Values?: number[];
}
export interface TableStatistics {
  readonly SchemaName?: string;
  readonly TableName?: string;
  readonly TableState?: string;
  readonly Inserts?: number;
  readonly Updates?: number;
  readonly Deletes?: number;
  readonly ValidationState?: string;
  readonly ValidationPendingRecords?: number;
  readonly ValidationFailedRecords?: number;
  readonly ValidationSuspendedRecords?: number;
}
export interface ReplicationTask {
  readonly Status?: string;
  readonly StopReason?: string;
  readonly LastFailureMessage?: string;
}
export interface Alarm {
  readonly AlarmName?: string;
  readonly StateValue?: string;
  readonly StateReason?: string;
}
export interface TargetHealthDescription {
  readonly Target?: { Id?: string; Port?: number };
  readonly TargetHealth?: { State?: string; Reason?: string };
}
export interface FenceState {
  readonly side: 'source' | 'target';
  readonly writable: boolean;
}

/** Metric query ids the workflow uses in GetMetricData. */
export const METRIC_IDS = {
  cdcSource: 'cdcLatencySource',
  cdcTarget: 'cdcLatencyTarget',
  requestsSource: 'requestsSource',
  requestsTarget: 'requestsTarget',
} as const;

export interface EvaluateInput {
  /** `pre-check` before any change, `gate` after a step's bake. */
  readonly kind: 'pre-check' | 'gate';
  readonly thresholds: Thresholds;
  readonly task: { ReplicationTasks?: ReplicationTask[] };
  readonly metrics: { MetricDataResults?: MetricDataResult[] };
  readonly tables: { TableStatistics?: TableStatistics[] };
  readonly alarms: { MetricAlarms?: Alarm[]; CompositeAlarms?: Alarm[] };
  /** Pre-check: the target group's health. */
  readonly targetHealth?: { TargetHealthDescriptions?: TargetHealthDescription[] };
  /** Pre-check: each database's fence, from the fence function. */
  readonly fence?: { source?: FenceState; target?: FenceState };
  /** Pre-check: the reverse (target → source) task, which must never have run (see reverseReadyCheck). */
  readonly reverseTask?: { ReplicationTasks?: ReplicationTask[] };
  /** Gate: the target's intended share in percent. */
  readonly intendedTargetWeight?: number;
}

/** Validation states that mean rows differ or cannot be compared; `Pending records` is progress, not failure. */
const BAD_VALIDATION_STATES = new Set([
  'Mismatched records',
  'Suspended records',
  'No primary key',
  'Table error',
  'Error',
  'Not enabled',
  'Cancelled',
]);
const BAD_TABLE_STATES = new Set(['Table error', 'Table cancelled']);

const tableName = (t: TableStatistics) => `${t.SchemaName ?? '?'}.${t.TableName ?? '?'}`;

export function latest(
  metrics: EvaluateInput['metrics'],
  id: string,
  since?: string,
): { value: number; at: string } | undefined {
  const series = (metrics.MetricDataResults ?? []).find((r) => r.Id === id);
  const points = (series?.Values ?? []).map((value, i) => ({ value, at: series?.Timestamps?.[i] ?? '' }));
  const fresh =
    since === undefined ? points : points.filter((p) => p.at !== '' && Date.parse(p.at) >= Date.parse(since));
  // GetMetricData is asked with ScanBy TimestampDescending, but do not rely on the order.
  return fresh.sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
}

export function sum(metrics: EvaluateInput['metrics'], id: string): number {
  const series = (metrics.MetricDataResults ?? []).find((r) => r.Id === id);
  return (series?.Values ?? []).reduce((a, b) => a + b, 0);
}

export function taskCheck(task: EvaluateInput['task']): Check {
  const t = task.ReplicationTasks?.[0];
  if (!t) return { name: 'dms-task-running', ok: false, detail: 'the replication task was not found' };
  const ok = t.Status === 'running';
  const why = [t.StopReason, t.LastFailureMessage].filter(Boolean).join('; ');
  return { name: 'dms-task-running', ok, detail: `status ${t.Status ?? 'unknown'}${!ok && why ? ` (${why})` : ''}` };
}

export function latencyCheck(
  metrics: EvaluateInput['metrics'],
  which: 'source' | 'target',
  bound: number,
  since?: string,
): Check {
  const name = which === 'source' ? 'cdc-latency-source' : 'cdc-latency-target';
  const metric = which === 'source' ? 'CDCLatencySource' : 'CDCLatencyTarget';
  const point = latest(metrics, which === 'source' ? METRIC_IDS.cdcSource : METRIC_IDS.cdcTarget, since);
  if (!point) {
    return {
      name,
      ok: false,
      detail: `no ${metric} datapoint${since ? ` since ${since}` : ''}: a stopped or dead task publishes none, so missing data counts as failure`,
    };
  }
  const ok = point.value <= bound;
  return { name, ok, detail: `${metric} ${point.value} s at ${point.at} (bound ${bound} s)` };
}

export function validationCheck(tables: EvaluateInput['tables']): Check {
  const stats = tables.TableStatistics ?? [];
  if (stats.length === 0) return { name: 'validation', ok: false, detail: 'DMS reports no table statistics' };
  const problems: string[] = [];
  for (const t of stats) {
    if ((t.ValidationFailedRecords ?? 0) > 0)
      problems.push(`${tableName(t)}: ${t.ValidationFailedRecords} failed rows`);
    if ((t.ValidationSuspendedRecords ?? 0) > 0)
      problems.push(`${tableName(t)}: ${t.ValidationSuspendedRecords} suspended rows`);
    if (t.ValidationState !== undefined && BAD_VALIDATION_STATES.has(t.ValidationState)) {
      problems.push(`${tableName(t)}: validation ${t.ValidationState}`);
    }
    if (t.TableState !== undefined && BAD_TABLE_STATES.has(t.TableState))
      problems.push(`${tableName(t)}: ${t.TableState}`);
  }
  return {
    name: 'validation',
    ok: problems.length === 0,
    detail: problems.length === 0 ? `${stats.length} tables, no failed or suspended validation` : problems.join('; '),
  };
}

export function alarmCheck(alarms: EvaluateInput['alarms']): Check {
  const firing = [...(alarms.MetricAlarms ?? []), ...(alarms.CompositeAlarms ?? [])].filter(
    (a) => a.StateValue === 'ALARM',
  );
  return {
    name: 'alarms',
    ok: firing.length === 0,
    detail:
      firing.length === 0 ? 'no application alarm in ALARM' : `in ALARM: ${firing.map((a) => a.AlarmName).join(', ')}`,
  };
}

export function healthCheck(health: EvaluateInput['targetHealth'], minHealthy: number): Check {
  const targets = health?.TargetHealthDescriptions ?? [];
  const healthy = targets.filter((t) => t.TargetHealth?.State === 'healthy').length;
  const unhealthy = targets.filter((t) => t.TargetHealth?.State === 'unhealthy');
  const ok = healthy >= minHealthy && unhealthy.length === 0;
  return {
    name: 'target-healthy',
    ok,
    detail:
      `${healthy} of ${targets.length} targets healthy (need ${minHealthy})` +
      (unhealthy.length
        ? `; unhealthy: ${unhealthy.map((t) => `${t.Target?.Id} (${t.TargetHealth?.Reason ?? '?'})`).join(', ')}`
        : ''),
  };
}

export function fenceCheck(fence: EvaluateInput['fence']): Check {
  const source = fence?.source?.writable;
  const target = fence?.target?.writable;
  const ok = source === true && target === false;
  return {
    name: 'fence',
    ok,
    detail: ok
      ? 'the source accepts application writes, the target does not'
      : `expected source writable and target read-only for the application, found source ${describe(source)}, target ${describe(target)}`,
  };
}
const describe = (w: boolean | undefined) => (w === undefined ? 'unknown' : w ? 'writable' : 'read-only');

/**
 * The reverse task starts at the flip with start-replication, which DMS accepts only for a task that
 * never ran; a task that ran (an earlier attempt) would resume from an old checkpoint instead.
 */
export function reverseReadyCheck(task: EvaluateInput['reverseTask']): Check {
  const status = task?.ReplicationTasks?.[0]?.Status;
  const ok = status === 'ready';
  return {
    name: 'reverse-task-ready',
    ok,
    detail: ok
      ? 'the reverse task is ready and never ran'
      : `the reverse task is ${status ?? 'missing'}; it must be ready (never run): recreate it before another attempt`,
  };
}

export function splitCheck(metrics: EvaluateInput['metrics'], intended: number, t: Thresholds): Check {
  const source = sum(metrics, METRIC_IDS.requestsSource);
  const target = sum(metrics, METRIC_IDS.requestsTarget);
  const total = source + target;
  if (total < t.minRequests) {
    return {
      name: 'traffic-split',
      ok: false,
      detail: `${total} requests in the window, fewer than the ${t.minRequests} needed to judge the split (bake longer or lower thresholds.minRequests)`,
    };
  }
  const observed = target / total;
  const ok = Math.abs(observed - intended / 100) <= t.splitTolerance;
  return {
    name: 'traffic-split',
    ok,
    detail: `target took ${(observed * 100).toFixed(1)} % of ${total} requests, intended ${intended} % (tolerance ${t.splitTolerance * 100} points)`,
  };
}

/** The pre-check before any change, or the gate after a step. */
export function evaluate(input: EvaluateInput): CheckReport {
  const t = input.thresholds;
  const checks: Check[] = [
    taskCheck(input.task),
    latencyCheck(input.metrics, 'source', t.cdcLatencySeconds),
    latencyCheck(input.metrics, 'target', t.cdcLatencySeconds),
    validationCheck(input.tables),
    alarmCheck(input.alarms),
  ];
  if (input.kind === 'pre-check') {
    checks.push(
      healthCheck(input.targetHealth, t.minHealthyTargets),
      fenceCheck(input.fence),
      reverseReadyCheck(input.reverseTask),
    );
  } else {
    if (input.intendedTargetWeight === undefined) throw new Error('a gate needs intendedTargetWeight');
    checks.push(splitCheck(input.metrics, input.intendedTargetWeight, t));
  }
  return report(input.kind, checks);
}

export function report(kind: string, checks: Check[]): CheckReport {
  const failed = checks.filter((c) => !c.ok).map((c) => c.name);
  return {
    kind,
    ok: failed.length === 0,
    failed,
    checks,
    summary:
      failed.length === 0
        ? `${kind}: all ${checks.length} checks passed`
        : `${kind}: ${failed.length} of ${checks.length} checks failed: ${checks
            .filter((c) => !c.ok)
            .map((c) => `${c.name} (${c.detail})`)
            .join('; ')}`,
  };
}

export interface DrainInput {
  readonly task: { ReplicationTasks?: ReplicationTask[] };
  readonly metrics: { MetricDataResults?: MetricDataResult[] };
  /** Only datapoints at or after this instant count (the fence time). */
  readonly since: string;
  readonly bound: number;
}

/** Whether a task has applied everything written before `since`: running, both latencies at most `bound` after it. */
export function drained(input: DrainInput): { drained: boolean; taskFailed: boolean; report: CheckReport } {
  const task = taskCheck(input.task);
  const checks = [
    task,
    latencyCheck(input.metrics, 'source', input.bound, input.since),
    latencyCheck(input.metrics, 'target', input.bound, input.since),
  ];
  const status = input.task.ReplicationTasks?.[0]?.Status;
  // starting/resuming may still become running; anything else will never drain.
  const taskFailed = !task.ok && !['starting', 'resuming', 'modifying'].includes(status ?? '');
  const r = report('drain', checks);
  return { drained: r.ok, taskFailed, report: r };
}

/** The validation pass at the flip: nothing pending, nothing failed. */
export function validationPass(tables: EvaluateInput['tables']): { done: boolean; failed: boolean; detail: string } {
  const check = validationCheck(tables);
  if (!check.ok) return { done: false, failed: true, detail: check.detail };
  const pending = (tables.TableStatistics ?? []).filter((t) => (t.ValidationPendingRecords ?? 0) > 0);
  return {
    done: pending.length === 0,
    failed: false,
    detail:
      pending.length === 0
        ? check.detail
        : `pending: ${pending.map((t) => `${tableName(t)} ${t.ValidationPendingRecords}`).join(', ')}`,
  };
}

export interface Deployment {
  readonly status?: string;
  readonly rolloutState?: string;
  readonly rolloutStateReason?: string;
}

/** One DescribeServices answer as the workflow selects it: service names and their deployments. */
export interface ServicesAnswer {
  readonly names?: string[];
  readonly deployments?: Deployment[][];
}

/** Whether forced deployments of the services finished: PRIMARY rollout COMPLETED for each, FAILED stops. */
export function deploymentsSettled(answers: ServicesAnswer[]): { done: boolean; failed: boolean; detail: string } {
  const states = answers.flatMap((a) =>
    (a.deployments ?? []).map((deployments, i) => {
      const primary = deployments.find((d) => d.status === 'PRIMARY');
      return {
        name: a.names?.[i] ?? '?',
        state: primary?.rolloutState ?? 'UNKNOWN',
        reason: primary?.rolloutStateReason,
      };
    }),
  );
  const failed = states.filter((s) => s.state === 'FAILED');
  return {
    done: states.length > 0 && states.every((s) => s.state === 'COMPLETED'),
    failed: failed.length > 0,
    detail: states.map((s) => `${s.name}: ${s.state}${s.reason ? ` (${s.reason})` : ''}`).join('; '),
  };
}
