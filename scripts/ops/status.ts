/**
 * `status`: gathers each section on its own (a section that cannot be read says why, the others are
 * still shown), then formats the report. Formatting is pure and tested on its own.
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeReplicationInstancesCommand, type ReplicationTask } from '@aws-sdk/client-database-migration-service';
import { ListExecutionsCommand, type ExecutionListItem } from '@aws-sdk/client-sfn';
import {
  actions,
  pendingApprovals,
  pipelineState,
  summariseStages,
  type ActionSummary,
  type PendingApproval,
  type StageSummary,
} from './approve';
import type { OpsClients } from './clients';
import { describeTask } from './dms';
import { explainFailure } from './errors';
import type { StageResources } from './locate';

export type Section<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export interface PipelineReport {
  readonly name: string;
  readonly stages: StageSummary[];
  readonly smokeTests: ActionSummary[];
  readonly pending: PendingApproval[];
}

export interface DmsReport {
  readonly taskArn: string;
  readonly status: string;
  readonly stopReason?: string;
  readonly lastFailureMessage?: string;
  readonly fullLoadPercent?: number;
  /** Latest CDCLatencyTarget (seconds) in the last 15 minutes; undefined when DMS published none. */
  readonly cdcLatencySeconds?: number;
}

export interface StatusReport {
  readonly env: string;
  readonly stage: string;
  readonly region: string;
  readonly pipeline: Section<PipelineReport>;
  readonly dms: Section<DmsReport>;
  readonly executions: Section<ExecutionListItem[]>;
}

export async function section<T>(what: string, read: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (e) {
    return { ok: false, error: explainFailure(e, what) };
  }
}

export async function readPipeline(clients: OpsClients, name: string): Promise<PipelineReport> {
  const state = await pipelineState(clients, name);
  return {
    name,
    stages: summariseStages(state),
    smokeTests: actions(state).filter((a) => a.action.startsWith('SmokeTest-')),
    pending: pendingApprovals(state),
  };
}

export async function readDms(clients: OpsClients, taskArn: string, now: Date): Promise<DmsReport> {
  const task: ReplicationTask = await describeTask(clients, taskArn);
  const instances = await clients.dms.send(
    new DescribeReplicationInstancesCommand({
      Filters: [{ Name: 'replication-instance-arn', Values: [task.ReplicationInstanceArn ?? ''] }],
    }),
  );
  const instanceId = instances.ReplicationInstances?.[0]?.ReplicationInstanceIdentifier;
  let cdcLatencySeconds: number | undefined;
  if (instanceId) {
    const metrics = await clients.cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 15 * 60_000),
        EndTime: now,
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [
          {
            Id: 'cdc',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/DMS',
                MetricName: 'CDCLatencyTarget',
                Dimensions: [
                  { Name: 'ReplicationInstanceIdentifier', Value: instanceId },
                  // DMS publishes task metrics under the task's resource id, the last ARN field.
                  { Name: 'ReplicationTaskIdentifier', Value: taskArn.split(':').pop() ?? '' },
                ],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    cdcLatencySeconds = metrics.MetricDataResults?.[0]?.Values?.[0];
  }
  return {
    taskArn,
    status: task.Status ?? 'unknown',
    ...(task.StopReason ? { stopReason: task.StopReason } : {}),
    ...(task.LastFailureMessage ? { lastFailureMessage: task.LastFailureMessage } : {}),
    ...(task.ReplicationTaskStats?.FullLoadProgressPercent !== undefined
      ? { fullLoadPercent: task.ReplicationTaskStats.FullLoadProgressPercent }
      : {}),
    ...(cdcLatencySeconds !== undefined ? { cdcLatencySeconds } : {}),
  };
}

export async function readExecutions(clients: OpsClients, stateMachineArn: string): Promise<ExecutionListItem[]> {
  const out = await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 5 }));
  return out.executions ?? [];
}

export async function gatherStatus(
  clients: OpsClients,
  opts: {
    env: string;
    stage: string;
    region: string;
    resources: Section<StageResources>;
    pipelineName: Section<string>;
    now: Date;
  },
): Promise<StatusReport> {
  const { resources, pipelineName } = opts;
  const [pipeline, dms, executions] = await Promise.all([
    pipelineName.ok
      ? section(`reading pipeline ${pipelineName.value}`, () => readPipeline(clients, pipelineName.value))
      : Promise.resolve(pipelineName),
    resources.ok
      ? section('reading the DMS task', () => readDms(clients, resources.value.replicationTaskArn, opts.now))
      : Promise.resolve(resources),
    resources.ok
      ? section('listing workflow executions', () => readExecutions(clients, resources.value.stateMachineArn))
      : Promise.resolve(resources),
  ]);
  return { env: opts.env, stage: opts.stage, region: opts.region, pipeline, dms, executions };
}

const iso = (d: Date | undefined) => (d ? d.toISOString().replace(/\.\d+Z$/, 'Z') : '-');

export function formatStatus(r: StatusReport, cdcBoundSeconds: number): string {
  const lines: string[] = [`Stage ${r.stage} (${r.region})`, ''];
  lines.push('Pipeline');
  if (!r.pipeline.ok) lines.push(`  unavailable: ${r.pipeline.error}`);
  else {
    const p = r.pipeline.value;
    lines.push(`  ${p.name}: ${p.stages.map((s) => `${s.name} ${s.status}`).join(' | ')}`);
    for (const smoke of p.smokeTests) {
      lines.push(
        `  ${smoke.action}: ${smoke.status}${smoke.summary ? ` (${smoke.summary})` : ''}, ${iso(smoke.lastChange)}`,
      );
    }
    if (p.pending.length === 0) lines.push('  no approval waiting');
    for (const a of p.pending) {
      const smoke = a.previousSmokeTest;
      lines.push(
        `  WAITING: ${a.action}; smoke test before it: ${smoke ? `${smoke.action} ${smoke.status}` : 'none'}` +
          ` -> npm run ops -- approve ${a.env}`,
      );
    }
  }
  lines.push('', 'DMS replication task');
  if (!r.dms.ok) lines.push(`  unavailable: ${r.dms.error}`);
  else {
    const d = r.dms.value;
    lines.push(`  ${d.taskArn}`);
    lines.push(
      `  status ${d.status}${d.stopReason ? ` (${d.stopReason})` : ''}` +
        `${d.fullLoadPercent !== undefined ? `, full load ${d.fullLoadPercent}%` : ''}`,
    );
    if (d.lastFailureMessage) lines.push(`  last failure: ${d.lastFailureMessage}`);
    const latency =
      d.cdcLatencySeconds === undefined
        ? d.status === 'running'
          ? 'no datapoint in 15 min (a running task should publish one: check the task)'
          : 'none (the task is not running)'
        : `${d.cdcLatencySeconds} s (bound ${cdcBoundSeconds} s${d.cdcLatencySeconds >= cdcBoundSeconds ? ', ABOVE' : ''})`;
    lines.push(`  CDC latency: ${latency}`);
    if (d.status === 'ready') {
      lines.push(`  never started: npm run ops -- dms start --env ${r.env} (docs/runbook-smoke-and-dms.md)`);
    }
  }
  lines.push('', 'Last workflow executions');
  if (!r.executions.ok) lines.push(`  unavailable: ${r.executions.error}`);
  else if (r.executions.value.length === 0) lines.push('  none');
  else for (const e of r.executions.value) lines.push(`  ${iso(e.startDate)} ${e.status ?? '?'} ${e.name ?? '?'}`);
  return lines.join('\n');
}
