/**
 * Runs the synthesized cutover workflow locally (aws-local-stepfunctions) against a small world in
 * virtual time: DMS (forward and reverse tasks, table statistics), CloudWatch (CDC latency, ALB
 * request counts, alarms), Route 53 (weighted records, change propagation), ECS (forced deployments),
 * SSM (pointer and command parameters), ELB target health, SNS, and two PostgreSQL databases behind
 * the fence function. The checks function is the real code (lambda/cutover-checks).
 *
 * Task states are answered by what their Resource and Parameters ask for, not by name, so a renamed
 * state keeps working; Wait states take no real time, and the state after a wait moves the clock.
 */
import { decide, type ChecksEvent } from '../../lambda/cutover-checks';
import { runDefinition, taskError, type AslDefinition, type AslState, type Json, type RunResult } from './asl';
import { FAKE, type SynthesizedCutover } from './cutover-fixture';

export type Side = 'source' | 'target';
type TaskStatus = 'ready' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface AlarmWindow {
  readonly name: string;
  /** Seconds after the execution start, or after the write flip (target unfenced) with `after: 'flip'`. */
  readonly from: number;
  readonly after?: 'start' | 'flip';
  readonly to?: number;
}

export interface CutoverScenario {
  /** @default a 10 % / 50 % / 100 % plan with 5-minute bakes */
  readonly plan?: unknown;
  readonly action?: 'cutover' | 'rollback';
  /** @default 'running' */
  readonly forwardStatus?: TaskStatus;
  /** @default 'ready' */
  readonly reverseStatus?: TaskStatus;
  /** Forward CDC latency in seconds while the source takes writes. @default 3 */
  readonly forwardLatency?: number;
  /** CloudWatch has no CDC datapoints at all (the metric is missing). */
  readonly cdcMissing?: boolean;
  /** CloudWatch stops receiving CDC datapoints from this virtual second on. */
  readonly cdcMissingFrom?: number;
  /** Virtual second from which the forward task reports failed validation rows. */
  readonly validationFailsAt?: number;
  /** Suspended tables from the start. */
  readonly suspendedTable?: boolean;
  /** @default true */
  readonly targetHealthy?: boolean;
  readonly alarms?: readonly AlarmWindow[];
  /** The target's application role accepts writes before the cutover (a broken starting state). */
  readonly targetInitiallyWritable?: boolean;
  /** @default 'approve' */
  readonly approval?: 'approve' | 'reject' | 'timeout';
  /** Virtual second at which the CLI writes a rollback command for this execution. */
  readonly rollbackCommandAt?: number;
  /** A rollback command left by another execution (must be ignored). */
  readonly staleCommand?: boolean;
  /** The reverse task fails as soon as a rollback fences the target. */
  readonly reverseFailsDuringRollback?: boolean;
  /** Throttling errors to throw, by state name, before answering. */
  readonly throttle?: Readonly<Record<string, number>>;
  /** Observed target share for an intended one (DNS caching). @default exact */
  readonly observedShare?: (intendedPercent: number) => number;
  /** Requests per minute per load balancer pair. @default 600 */
  readonly requestsPerMinute?: number;
  readonly deploymentFails?: boolean;
  /** Route 53 never reports the weight change of this step number (1-based) INSYNC. */
  readonly dnsStuckAtChange?: number;
  /** The pointer parameter as a previous execution left it (for a rollback command run). */
  readonly pointerWriter?: Side;
}

export const DEFAULT_PLAN = {
  steps: [
    { weight: 10, bakeMinutes: 5 },
    { weight: 50, bakeMinutes: 5 },
    { weight: 100, bakeMinutes: 5 },
  ],
  approver: 'alice@example.com',
  checkIntervalSeconds: 60,
};

export const EXECUTION_NAME = 'cutover-test-1';
const EPOCH = Date.UTC(2026, 11, 5, 9, 0, 0);
export const iso = (seconds: number) => new Date(EPOCH + seconds * 1000).toISOString();
const FENCE_OPS = new Set(['status', 'fence', 'unfence', 'position', 'counters', 'advance-sequences']);
const MAX_CALLS = 5000;

interface FakeTask {
  status: TaskStatus;
  /** Virtual second when a transient status (starting, stopping) settles. */
  settlesAt?: number;
  startedAt?: number;
}

interface FakeDatabase {
  writable: boolean;
  /** Per-table write counters (pg_stat_user_tables). */
  writes: number;
  lsn: number;
  sequence: number;
  fencedAt?: number;
}

export interface WriterSnapshot {
  readonly at: number;
  readonly why: string;
  readonly source: boolean;
  readonly target: boolean;
}

export interface Notification {
  readonly at: number;
  readonly decision: string;
  readonly message: Record<string, Json>;
}

export class CutoverWorld {
  now = 0;
  readonly forward: FakeTask;
  readonly reverse: FakeTask;
  readonly db: Record<Side, FakeDatabase>;
  weights = { source: 100, target: 0 };
  readonly weightHistory: { at: number; source: number; target: number }[] = [];
  private pendingChange?: { id: string; insyncAt: number };
  pointer: { writer: Side; host: string; [k: string]: Json };
  command: Json = { command: 'none', execution: 'none' };
  readonly deployments: { at: number; service: string; completesAt: number }[] = [];
  readonly notifications: Notification[] = [];
  readonly calls: { at: number; state: string; input: Json }[] = [];
  /** Writers after every fence operation and at the start. */
  readonly writers: WriterSnapshot[] = [];
  /** Application writes refused because the pointed database was read-only (write unavailability). */
  refusedWrites = 0;
  flippedAt?: number;
  reverseAppliedWrites = 0;
  approvalToken?: string;
  private readonly throttles: Map<string, number>;
  private readonly retrying = new Set<string>();
  private readonly afterWait: Map<string, number | 'checkInterval'>;
  private checkInterval = 60;

  constructor(
    private readonly synth: SynthesizedCutover,
    readonly scenario: CutoverScenario,
  ) {
    this.forward = { status: scenario.forwardStatus ?? 'running' };
    this.reverse = { status: scenario.reverseStatus ?? 'ready' };
    this.db = {
      source: { writable: true, writes: 10_000, lsn: 0x16b3748, sequence: 5000 },
      target: { writable: scenario.targetInitiallyWritable ?? false, writes: 10_000, lsn: 0x2a00000, sequence: 4990 },
    };
    const writer = scenario.pointerWriter ?? 'source';
    this.pointer = { writer, host: FAKE.host[writer] };
    if (writer === 'target') {
      this.db.source.writable = false;
      this.db.target.writable = true;
      this.reverse.status = 'running';
      this.forward.status = 'stopped';
      this.weights = { source: 0, target: 100 };
    }
    if (scenario.staleCommand) this.command = { command: 'rollback', execution: 'an-older-execution' };
    this.throttles = new Map(Object.entries(scenario.throttle ?? {}));
    this.afterWait = waitsBefore(synth.definition);
    this.snapshot('start');
  }

  // ---- time ---------------------------------------------------------------------------------

  private advance(seconds: number): void {
    const end = this.now + seconds;
    while (this.now < end) {
      const step = Math.min(1, end - this.now);
      this.now += step;
      for (const task of [this.forward, this.reverse]) {
        if (task.settlesAt !== undefined && this.now >= task.settlesAt) {
          task.status = task.status === 'starting' ? 'running' : task.status === 'stopping' ? 'stopped' : task.status;
          task.settlesAt = undefined;
        }
      }
      // The application writes about once a second to the database the pointer names.
      const db = this.db[this.pointer.writer];
      if (db.writable) {
        db.writes += step;
        db.lsn += 512 * step;
        db.sequence += step;
        if (this.pointer.writer === 'target' && this.reverse.status === 'running') this.reverseAppliedWrites += step;
      } else {
        this.refusedWrites += step;
      }
    }
  }

  private snapshot(why: string): void {
    this.writers.push({ at: this.now, why, source: this.db.source.writable, target: this.db.target.writable });
  }

  // ---- dispatch -----------------------------------------------------------------------------

  handlers(): Record<string, (input: Json) => Json> {
    const out: Record<string, (input: Json) => Json> = {};
    for (const [name, state] of Object.entries(this.synth.definition.States)) {
      if (state.Type !== 'Task') continue;
      out[name] = (input) => this.answer(name, state, input);
    }
    return out;
  }

  private answer(name: string, state: AslState, input: Json): Json {
    if (this.calls.length >= MAX_CALLS) throw new Error(`more than ${MAX_CALLS} calls: a loop without a bound?`);
    const resource = String(state.Resource);
    const left = this.throttles.get(name) ?? 0;
    if (left > 0) {
      this.throttles.set(name, left - 1);
      this.retrying.add(name);
      throw taskError(throttleErrorFor(resource), 'Rate exceeded');
    }
    if (this.retrying.has(name)) this.retrying.delete(name);
    else {
      const wait = this.afterWait.get(name);
      if (wait !== undefined) this.advance(wait === 'checkInterval' ? this.checkInterval : wait);
    }
    this.calls.push({ at: this.now, state: name, input });
    const i = input as Record<string, Json>;
    if (resource.startsWith('arn:aws:states:::sns:publish'))
      return this.publish(i, resource.endsWith('waitForTaskToken'));
    const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z]+)$/.exec(resource);
    if (sdk) return this.sdk(`${sdk[1]}:${sdk[2]}`, i);
    if (resource.includes(':lambda:')) {
      return FENCE_OPS.has(String(i.op)) ? this.fence(i) : this.checks(i);
    }
    throw new Error(`${name}: no fake for ${resource}`);
  }

  private sdk(api: string, i: Record<string, Json>): Json {
    switch (api) {
      case 'databasemigration:describeReplicationTasks': {
        const arn = (i.Filters as { Values: string[] }[])[0]!.Values[0];
        const task =
          arn === FAKE.forwardTaskArn ? this.forward : arn === FAKE.reverseTaskArn ? this.reverse : undefined;
        if (!task) throw taskError('DatabaseMigration.ResourceNotFoundFault', `no task ${arn}`);
        return {
          ReplicationTasks: [
            {
              ReplicationTaskArn: arn,
              Status: task.status,
              ...(task.status === 'failed' ? { LastFailureMessage: 'Error executing source loop' } : {}),
            },
          ],
        } as Json;
      }
      case 'databasemigration:describeTableStatistics':
        return this.tableStatistics(String(i.ReplicationTaskArn));
      case 'databasemigration:startReplicationTask': {
        const task = i.ReplicationTaskArn === FAKE.forwardTaskArn ? this.forward : this.reverse;
        const type = String(i.StartReplicationTaskType);
        const valid =
          (type === 'start-replication' && task.status === 'ready') ||
          (type === 'resume-processing' && task.status === 'stopped');
        if (!valid) throw taskError('DatabaseMigration.InvalidResourceStateFault', `${type} invalid in ${task.status}`);
        task.status = 'starting';
        task.settlesAt = this.now + 40;
        task.startedAt = this.now;
        return { ReplicationTask: { Status: 'starting' } };
      }
      case 'databasemigration:stopReplicationTask': {
        const task = i.ReplicationTaskArn === FAKE.forwardTaskArn ? this.forward : this.reverse;
        if (task.status !== 'running' && task.status !== 'starting') {
          throw taskError('DatabaseMigration.InvalidResourceStateFault', `cannot stop a ${task.status} task`);
        }
        task.status = 'stopping';
        task.settlesAt = this.now + 20;
        return { ReplicationTask: { Status: 'stopping' } };
      }
      case 'cloudwatch:getMetricData':
        return this.metricData(i);
      case 'cloudwatch:describeAlarms': {
        const firing = (a: AlarmWindow) => {
          const base = a.after === 'flip' ? this.flippedAt : 0;
          return base !== undefined && this.now >= base + a.from && (a.to === undefined || this.now < base + a.to);
        };
        const names = i.AlarmNames as string[];
        const all = names.map((n) => ({
          AlarmName: n,
          StateValue: (this.scenario.alarms ?? []).some((a) => a.name === n && firing(a)) ? 'ALARM' : 'OK',
        }));
        return {
          MetricAlarms: i.StateValue ? all.filter((a) => a.StateValue === i.StateValue) : all,
          CompositeAlarms: [],
        };
      }
      case 'elasticloadbalancingv2:describeTargetHealth': {
        const healthy = this.scenario.targetHealthy ?? true;
        return {
          TargetHealthDescriptions: ['10.0.1.10', '10.0.2.10'].map((ip, n) => ({
            Target: { Id: ip, Port: 8080 },
            TargetHealth:
              healthy || n === 0 ? { State: 'healthy' } : { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' },
          })),
        } as Json;
      }
      case 'route53:listResourceRecordSets':
        return {
          ResourceRecordSets: (['source', 'target'] as const).map((side) => ({
            Name: `${FAKE.recordName}.`,
            Type: 'A',
            SetIdentifier: side,
            Weight: this.weights[side],
            AliasTarget: {
              HostedZoneId: 'Z35SXDOTRQ7X7K',
              DNSName: `dualstack.${side}-alb.us-east-1.elb.amazonaws.com.`,
              EvaluateTargetHealth: true,
            },
            HealthCheckId: `hc-${side}`,
          })),
          IsTruncated: false,
          MaxItems: '20',
        };
      case 'route53:changeResourceRecordSets': {
        const changes = (i.ChangeBatch as { Changes: { ResourceRecordSet: { SetIdentifier: Side; Weight: number } }[] })
          .Changes;
        for (const c of changes) {
          if ((c.ResourceRecordSet as unknown as { AliasTarget?: unknown }).AliasTarget === undefined) {
            throw taskError('Route53.InvalidChangeBatchException', 'an UPSERT must carry the whole record');
          }
          this.weights[c.ResourceRecordSet.SetIdentifier] = c.ResourceRecordSet.Weight;
        }
        this.weightHistory.push({ at: this.now, ...this.weights });
        const id = `/change/C${this.weightHistory.length}`;
        const stuck = this.scenario.dnsStuckAtChange === this.weightHistory.length;
        this.pendingChange = { id, insyncAt: stuck ? Number.POSITIVE_INFINITY : this.now + 15 };
        return { ChangeInfo: { Id: id, Status: 'PENDING', SubmittedAt: iso(this.now) } };
      }
      case 'route53:getChange':
        return {
          ChangeInfo: {
            Id: String(i.Id),
            Status: this.pendingChange && this.now < this.pendingChange.insyncAt ? 'PENDING' : 'INSYNC',
          },
        };
      case 'ssm:getParameter': {
        const name = String(i.Name);
        if (name.endsWith('/command')) {
          if (this.scenario.rollbackCommandAt !== undefined && this.now >= this.scenario.rollbackCommandAt) {
            this.command = { command: 'rollback', execution: EXECUTION_NAME, by: 'arn:aws:iam::123456789012:user/bob' };
          }
          return { Parameter: { Name: name, Value: JSON.stringify(this.command) } };
        }
        if (name.endsWith('/database-pointer'))
          return { Parameter: { Name: name, Value: JSON.stringify(this.pointer) } };
        throw taskError('Ssm.ParameterNotFoundException', name);
      }
      case 'ssm:putParameter': {
        if (!String(i.Name).endsWith('/database-pointer')) throw new Error(`unexpected PutParameter ${String(i.Name)}`);
        this.pointer = JSON.parse(String(i.Value)) as CutoverWorld['pointer'];
        if (this.pointer.writer === 'target') this.flippedAt ??= this.now;
        return { Version: 2, Tier: 'Standard' };
      }
      case 'ecs:updateService':
        if (i.ForceNewDeployment !== true) throw new Error('UpdateService without ForceNewDeployment');
        this.deployments.push({ at: this.now, service: String(i.Service), completesAt: this.now + 90 });
        return { Service: { ServiceName: String(i.Service) } };
      case 'ecs:describeServices': {
        const arn = (i.Services as string[])[0]!;
        const last = this.deployments.filter((d) => d.service === arn).at(-1);
        const state = !last
          ? 'COMPLETED'
          : this.scenario.deploymentFails
            ? 'FAILED'
            : this.now >= last.completesAt
              ? 'COMPLETED'
              : 'IN_PROGRESS';
        return {
          Services: [
            {
              ServiceName: arn.split('/').pop()!,
              Deployments: [{ status: 'PRIMARY', rolloutState: state }],
              Events: Array.from({ length: 3 }, (_, n) => ({ message: `event ${n}` })),
            },
          ],
        };
      }
      default:
        throw new Error(`no fake for ${api}`);
    }
  }

  private tableStatistics(taskArn: string): Json {
    const forward = taskArn === FAKE.forwardTaskArn;
    const failing =
      forward && this.scenario.validationFailsAt !== undefined && this.now >= this.scenario.validationFailsAt;
    const pending = forward && this.db.source.fencedAt !== undefined && this.now - this.db.source.fencedAt < 90 ? 4 : 0;
    return {
      ReplicationTaskArn: taskArn,
      TableStatistics: ['transactions', 'accounts', 'ledger_entries'].map((table, n) => ({
        SchemaName: 'payments',
        TableName: table,
        TableState: 'Table completed',
        Inserts: forward ? 1000 : n === 0 ? this.reverseAppliedWrites : 0,
        Updates: 0,
        Deletes: 0,
        ValidationState:
          failing && n === 0
            ? 'Mismatched records'
            : this.scenario.suspendedTable && n === 2
              ? 'Suspended records'
              : pending > 0 && n === 0
                ? 'Pending records'
                : 'Validated',
        ValidationPendingRecords: n === 0 ? pending : 0,
        ValidationFailedRecords: failing && n === 0 ? 2 : 0,
        ValidationSuspendedRecords: this.scenario.suspendedTable && n === 2 ? 7 : 0,
      })),
    };
  }

  private metricData(i: Record<string, Json>): Json {
    type Query = { Id: string; MetricStat: { Metric: { Dimensions: { Name: string; Value: string }[] } } };
    const queries = i.MetricDataQueries as unknown as Query[];
    const results = queries.map((q) => {
      const dims = Object.fromEntries(q.MetricStat.Metric.Dimensions.map((d) => [d.Name, d.Value]));
      if (q.Id.startsWith('cdcLatency')) {
        const forward = dims.ReplicationTaskIdentifier === FAKE.forwardTaskResourceId;
        if (!forward && dims.ReplicationTaskIdentifier !== FAKE.reverseTaskResourceId) {
          throw new Error(`unknown task dimension ${dims.ReplicationTaskIdentifier}`);
        }
        if (dims.ReplicationInstanceIdentifier !== FAKE.replicationInstanceIdentifier)
          throw new Error('wrong instance');
        const task = forward ? this.forward : this.reverse;
        // A task that is not running publishes nothing.
        const missing =
          this.scenario.cdcMissing ||
          (this.scenario.cdcMissingFrom !== undefined && this.now >= this.scenario.cdcMissingFrom);
        if (missing || task.status !== 'running') return { Id: q.Id, Timestamps: [], Values: [] };
        const writer = this.db[forward ? 'source' : 'target'];
        const idle = writer.fencedAt !== undefined && this.now - writer.fencedAt >= 60;
        const value = idle ? 0 : forward ? (this.scenario.forwardLatency ?? 3) : 2;
        return { Id: q.Id, Timestamps: [iso(this.now)], Values: [value] };
      }
      const perMinute = this.scenario.requestsPerMinute ?? 600;
      const share = (this.scenario.observedShare ?? ((p: number) => p / 100))(this.weights.target);
      const value = q.Id === 'requestsTarget' ? perMinute * share : perMinute * (1 - share);
      const lb = q.Id === 'requestsTarget' ? FAKE.loadBalancerDimension.target : FAKE.loadBalancerDimension.source;
      if (dims.LoadBalancer !== lb) throw new Error(`${q.Id}: LoadBalancer ${dims.LoadBalancer}, expected ${lb}`);
      return { Id: q.Id, Timestamps: [iso(this.now)], Values: [Math.round(value)] };
    });
    return { MetricDataResults: results, Messages: [] };
  }

  private publish(i: Record<string, Json>, waitForToken: boolean): Json {
    const message = (typeof i.Message === 'string' ? JSON.parse(i.Message) : i.Message) as Record<string, Json>;
    this.notifications.push({ at: this.now, decision: String(message.decision), message });
    if (!waitForToken) return { MessageId: `m-${this.notifications.length}` };
    this.approvalToken = String(message.taskToken);
    this.advance(300);
    switch (this.scenario.approval ?? 'approve') {
      case 'approve':
        return { approvedBy: 'arn:aws:iam::123456789012:user/alice' };
      case 'reject':
        throw taskError('Cutover.Rejected', 'rejected by alice: not tonight');
      case 'timeout':
        throw taskError('States.Timeout', 'approval timed out');
    }
  }

  private checks(i: Record<string, Json>): Json {
    const result = decide(i as unknown as ChecksEvent, this.synth.checksEnvironment) as Json & {
      checkIntervalSeconds?: number;
    };
    if (i.op === 'validate-plan' && typeof result.checkIntervalSeconds === 'number') {
      this.checkInterval = result.checkIntervalSeconds;
    }
    return result;
  }

  private fence(i: Record<string, Json>): Json {
    const side = i.side as Side;
    const at = iso(this.now);
    switch (i.op) {
      case 'status':
        return {
          source: { side: 'source', writable: this.db.source.writable },
          target: { side: 'target', writable: this.db.target.writable },
          at,
        };
      case 'fence':
        this.db[side].writable = false;
        this.db[side].fencedAt = this.now;
        if (side === 'target' && this.scenario.reverseFailsDuringRollback) this.reverse.status = 'failed';
        this.snapshot(`fence ${side}`);
        return { side, writable: false, terminatedSessions: 12, at };
      case 'unfence':
        this.db[side].writable = true;
        this.db[side].fencedAt = undefined;
        this.snapshot(`unfence ${side}`);
        if (side === 'target') this.flippedAt ??= this.now;
        return { side, writable: true, terminatedSessions: 3, at };
      case 'position':
        return { side, lsn: `0/${this.db[side].lsn.toString(16).toUpperCase()}`, at };
      case 'counters':
        return { side, at, tables: { 'payments.transactions': Math.round(this.db[side].writes) } };
      case 'advance-sequences': {
        const from = this.db[i.from as Side];
        const to = this.db[i.to as Side];
        const before = to.sequence;
        to.sequence = Math.max(to.sequence, from.sequence + 1000);
        return {
          from: String(i.from),
          to: String(i.to),
          moved: [{ sequence: 'payments.transactions_id_seq', before, after: to.sequence }],
          at,
        };
      }
      default:
        throw new Error(`fence op ${String(i.op)}`);
    }
  }
}

function throttleErrorFor(resource: string): string {
  if (resource.includes(':lambda:')) return 'Lambda.TooManyRequestsException';
  if (resource.includes(':sns:')) return 'Sns.ThrottledException';
  const service = /aws-sdk:([a-z0-9]+):/.exec(resource)?.[1];
  const names: Record<string, string> = {
    databasemigration: 'DatabaseMigration.ThrottlingException',
    cloudwatch: 'CloudWatch.ThrottlingException',
    route53: 'Route53.ThrottlingException',
    ecs: 'Ecs.ThrottlingException',
    ssm: 'Ssm.ThrottlingException',
    elasticloadbalancingv2: 'ElasticLoadBalancingV2.ThrottlingException',
  };
  return names[service ?? ''] ?? 'Unknown.ThrottlingException';
}

/** The state each Wait leads to, with how long the wait is (SecondsPath waits use the plan's check interval). */
function waitsBefore(definition: AslDefinition): Map<string, number | 'checkInterval'> {
  const out = new Map<string, number | 'checkInterval'>();
  for (const state of Object.values(definition.States)) {
    if (state.Type !== 'Wait') continue;
    const next = String(state.Next);
    const seconds = typeof state.Seconds === 'number' ? state.Seconds : 'checkInterval';
    const nextState = definition.States[next];
    if (nextState?.Type !== 'Task')
      throw new Error(`the simulator expects a Task after each Wait; ${next} is ${nextState?.Type}`);
    out.set(next, seconds);
  }
  return out;
}

// ---- the invariant ---------------------------------------------------------------------------

export interface InvariantVerdict {
  readonly violations: string[];
  /** Writable sides after each fence state, replayed from the event history. */
  readonly timeline: { state: string; source: boolean; target: boolean }[];
}

/**
 * Never two writers, read from the execution's event history alone: every Task state that invokes
 * the fence with `fence` or `unfence` changes its side, pessimistically (an unfence counts from the
 * moment the state is entered, a fence only once the state exits successfully). At no point may both
 * sides be writable. The simulator's own record of the databases is checked as well.
 */
export function checkSingleWriter(
  definition: AslDefinition,
  run: RunResult,
  initial: { source: boolean; target: boolean },
  world?: CutoverWorld,
): InvariantVerdict {
  const fenceStates = new Map<string, { op: string; side: Side }>();
  for (const [name, state] of Object.entries(definition.States)) {
    const p = state.Parameters as Record<string, Json> | undefined;
    if (state.Type === 'Task' && (p?.op === 'fence' || p?.op === 'unfence')) {
      fenceStates.set(name, { op: String(p.op), side: p.side as Side });
    }
  }
  const writable = { ...initial };
  const violations: string[] = [];
  const timeline: InvariantVerdict['timeline'] = [];
  const check = (where: string) => {
    timeline.push({ state: where, ...writable });
    if (writable.source && writable.target) violations.push(`both databases accept application writes at ${where}`);
  };
  check('(start)');
  for (const e of run.events) {
    const f = e.state ? fenceStates.get(e.state.name) : undefined;
    if (!f) continue;
    if (e.type === 'StateEntered' && f.op === 'unfence') {
      writable[f.side] = true;
      check(`${e.state!.name} (entered)`);
    }
    if (e.type === 'StateExited' && f.op === 'fence') {
      writable[f.side] = false;
      check(`${e.state!.name} (exited)`);
    }
  }
  for (const w of world?.writers ?? []) {
    if (w.source && w.target) violations.push(`simulated databases both writable at ${w.at} s (${w.why})`);
  }
  return { violations, timeline };
}

// ---- one execution ---------------------------------------------------------------------------

export interface CutoverRun {
  readonly run: RunResult;
  readonly world: CutoverWorld;
  readonly invariant: InvariantVerdict;
  readonly decisions: string[];
}

export async function simulateCutover(synth: SynthesizedCutover, scenario: CutoverScenario = {}): Promise<CutoverRun> {
  const world = new CutoverWorld(synth, scenario);
  const initial = { source: world.db.source.writable, target: world.db.target.writable };
  const input: Json =
    (scenario.action ?? 'cutover') === 'cutover'
      ? { action: 'cutover', plan: (scenario.plan ?? DEFAULT_PLAN) as Json, reason: 'scheduled cutover' }
      : { action: 'rollback', plan: null, reason: 'operator command' };
  const run = await runDefinition(synth.definition, input, {
    handlers: world.handlers(),
    waitOverrides: 'all-zero',
    retryOverrides: 'all-zero',
    context: {
      Execution: {
        Id: `arn:aws:states:us-east-1:123456789012:execution:Cutover:${EXECUTION_NAME}`,
        Name: EXECUTION_NAME,
        StartTime: iso(0),
      },
      State: { EnteredTime: iso(0) },
      Task: { Token: 'task-token-0001' },
    },
  });
  return {
    run,
    world,
    invariant: checkSingleWriter(synth.definition, run, initial, world),
    decisions: world.notifications.map((n) => n.decision),
  };
}
