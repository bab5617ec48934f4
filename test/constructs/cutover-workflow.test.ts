/**
 * The synthesized cutover workflow, executed locally against the simulated world of
 * test/support/cutover-simulator.ts. Every scenario also runs the two-writer invariant over its event
 * history: at no moment may both databases accept application writes.
 */
import { Match } from 'aws-cdk-lib/assertions';
import type { AslState, RunResult } from '../support/asl';
import { FAKE, synthesizeCutover, type SynthesizedCutover } from '../support/cutover-fixture';
import {
  checkSingleWriter,
  DEFAULT_PLAN,
  simulateCutover,
  type CutoverRun,
  type CutoverScenario,
} from '../support/cutover-simulator';

let synth: SynthesizedCutover;
beforeAll(() => {
  synth = synthesizeCutover();
});

async function run(scenario: CutoverScenario = {}): Promise<CutoverRun> {
  const r = await simulateCutover(synth, scenario);
  expect(r.invariant.violations).toEqual([]);
  return r;
}

const ALARM = FAKE.alarmNames[0];
const changedSomething = (r: CutoverRun) =>
  r.world.weightHistory.length > 0 ||
  r.world.writers.length > 1 ||
  r.world.deployments.length > 0 ||
  r.world.calls.some((c) => /putParameter|Start Reverse|Stop Forward/.test(c.state) || c.state === 'Point At Target');
const callIndex = (r: CutoverRun, state: string) => r.world.calls.findIndex((c) => c.state === state);

describe('synthesized state machine', () => {
  it('logs at level ALL with execution data, traces, and has an execution timeout', () => {
    synth.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      TracingConfiguration: { Enabled: true },
    });
    expect(synth.definition.TimeoutSeconds).toBe(24 * 3600);
  });

  it('gives every Task state a timeout, and every AWS call a throttling retry', () => {
    const tasks = Object.entries(synth.definition.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(40);
    for (const [name, state] of tasks) {
      expect([name, typeof state.TimeoutSeconds]).toEqual([name, 'number']);
      if (name === 'Request Approval') continue;
      const retries = (state.Retry ?? []) as { ErrorEquals: string[] }[];
      expect([name, retries.some((r) => r.ErrorEquals.some((e) => /Throttl|TooManyRequests/.test(e)))]).toEqual([
        name,
        true,
      ]);
    }
  });

  it('asks for approval with a task token and the pre-check report', () => {
    const approval = synth.definition.States['Request Approval'] as AslState;
    expect(approval.Resource).toBe('arn:aws:states:::sns:publish.waitForTaskToken');
    expect(JSON.stringify(approval.Parameters)).toContain('"taskToken.$":"$$.Task.Token"');
    expect(JSON.stringify(approval.Parameters)).toContain('"precheck.$":"$.precheck"');
  });

  it('creates the pointer and command parameters once: a redeploy never rewrites them', () => {
    const owned = synth.template.findResources('Custom::AWS');
    const calls = Object.values(owned).map((r) => r.Properties as Record<string, unknown>);
    expect(calls).toHaveLength(2);
    for (const c of calls) {
      expect(c.Create).toBeDefined();
      expect(c.Update).toBeUndefined();
    }
    synth.template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/payment/dev/cutover/state-machine-arn',
    });
  });

  it('opens each database port to the fence function only', () => {
    synth.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 2);
    synth.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0a000000000000000',
      FromPort: 5432,
      SourceSecurityGroupId: Match.anyValue(),
    });
  });
});

describe('the happy path', () => {
  let r: CutoverRun;
  beforeAll(async () => {
    r = await run();
  });

  it('moves 10 %, 50 %, flips the writer, then moves the rest, and succeeds', () => {
    expect(r.run.status).toBe('SUCCEEDED');
    expect(r.world.weightHistory.map((w) => [w.source, w.target])).toEqual([
      [90, 10],
      [50, 50],
      [0, 100],
    ]);
    expect(r.decisions).toEqual([
      'APPROVAL_REQUESTED',
      'APPROVED',
      'STEP_MOVED',
      'GATE_PASSED',
      'STEP_MOVED',
      'GATE_PASSED',
      'FLIP_STARTING',
      'WRITE_FLIPPED',
      'STEP_MOVED',
      'GATE_PASSED',
      'CUTOVER_COMPLETE',
    ]);
  });

  it('makes the flip in order: fence, drain, validate, sequences, positions, stop forward, reverse running, unfence, pointer, deploy, weight', () => {
    const order = [
      'Fence Source',
      'Evaluate Forward Drain',
      'Evaluate Validation Pass',
      'Advance Target Sequences',
      'Record Source Position',
      'Stop Forward Task',
      'Start Reverse Task',
      'Unfence Target',
      'Point At Target',
      'Redeploy Target Service',
      'Evaluate Deployments',
    ].map((s) => callIndex(r, s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Reverse CDC runs before the target takes a write; the forward task stopped before the reverse writes the source.
    const reverseRunning = r.world.calls.findIndex(
      (c, i) => c.state === 'Describe Reverse Task' && i < callIndex(r, 'Unfence Target'),
    );
    expect(reverseRunning).toBeGreaterThan(callIndex(r, 'Start Reverse Task'));
    expect(r.world.flippedAt).toBeGreaterThan(r.world.weightHistory[1]!.at);
    expect(r.world.weightHistory[2]!.at).toBeGreaterThan(r.world.flippedAt!);
  });

  it('leaves the target the only writer, the pointer on the target, reverse CDC running', () => {
    expect(r.world.db.source.writable).toBe(false);
    expect(r.world.db.target.writable).toBe(true);
    expect(r.world.pointer).toMatchObject({ writer: 'target', host: FAKE.host.target, execution: 'cutover-test-1' });
    expect(r.world.reverse.status).toBe('running');
    expect(r.world.forward.status).toBe('stopped');
    expect(r.world.db.target.sequence).toBeGreaterThan(r.world.db.source.sequence);
    expect(r.world.deployments.map((d) => d.service).sort()).toEqual(
      [FAKE.serviceArn.source, FAKE.serviceArn.target].sort(),
    );
  });

  it('reads the live weights before every change and sends whole records', () => {
    for (const change of r.world.calls.filter((c) => c.state === 'Change Weights')) {
      const i = r.world.calls.indexOf(change);
      expect(
        r.world.calls
          .slice(0, i)
          .reverse()
          .find((c) => c.state.includes('Weights'))?.state,
      ).toBe('Plan Weights');
    }
  });

  it('gates after the flip on the reverse task', () => {
    const gates = r.world.calls.filter((c) => c.state === 'Gate: Read Metrics');
    expect(JSON.stringify(gates[0]!.input)).toContain(FAKE.forwardTaskResourceId);
    expect(JSON.stringify(gates.at(-1)!.input)).toContain(FAKE.reverseTaskResourceId);
  });
});

describe('plans', () => {
  it('refuses a bad plan with a message that names the field, before reading anything', async () => {
    const r = await run({
      plan: {
        ...DEFAULT_PLAN,
        steps: [
          { weight: 50, bakeMinutes: 5 },
          { weight: 20, bakeMinutes: 0 },
        ],
      },
    });
    expect(r.run.status).toBe('FAILED');
    expect(r.run.error).toBe('Cutover.PlanInvalid');
    expect(r.run.cause).toContain('plan.steps[1].weight: must be greater than');
    expect(r.run.cause).toContain('plan.steps[1].bakeMinutes');
    expect(r.run.cause).toContain('last step must move all traffic');
    expect(r.world.calls.map((c) => c.state)).toEqual(['Validate Plan', 'Notify Plan Refused']);
  });
});

describe('pre-checks', () => {
  it.each<[string, CutoverScenario, string[]]>([
    [
      'the DMS task is stopped',
      { forwardStatus: 'stopped' },
      ['dms-task-running', 'cdc-latency-source', 'cdc-latency-target'],
    ],
    ['CDC latency is above the bound', { forwardLatency: 120 }, ['cdc-latency-source', 'cdc-latency-target']],
    ['the CDC metric is missing', { cdcMissing: true }, ['cdc-latency-source', 'cdc-latency-target']],
    ['validation has failed rows', { validationFailsAt: 0 }, ['validation']],
    ['a table is suspended', { suspendedTable: true }, ['validation']],
    ['the target service is unhealthy', { targetHealthy: false }, ['target-healthy']],
    ['an app alarm is in ALARM', { alarms: [{ name: ALARM, from: 0 }] }, ['alarms']],
    ['the reverse task already ran', { reverseStatus: 'stopped' }, ['reverse-task-ready']],
  ])('%s: ends without any change and reports which check failed', async (_, scenario, failed) => {
    const r = await run(scenario);
    expect(r.run.status).toBe('FAILED');
    expect(r.run.error).toBe('Cutover.PreCheckFailed');
    for (const name of failed) expect(r.run.cause).toContain(name);
    expect(r.decisions).toEqual(['PRECHECK_FAILED']);
    const report = r.world.notifications[0]!.message.precheck as { failed: string[] };
    expect(report.failed).toEqual(failed);
    expect(changedSomething(r)).toBe(false);
  });

  it('refuses to start when the target already accepts application writes', async () => {
    const r = await simulateCutover(synth, { targetInitiallyWritable: true });
    expect(r.run.error).toBe('Cutover.PreCheckFailed');
    expect(r.run.cause).toContain('fence');
    // The broken start is the only moment with two writers: the workflow added none.
    expect(r.invariant.violations).toEqual(['both databases accept application writes at (start)', expect.any(String)]);
    expect(changedSomething(r)).toBe(false);
  });
});

describe('approval', () => {
  it.each([
    ['rejected', 'reject', 'Cutover.Rejected'],
    ['timed out', 'timeout', 'States.Timeout'],
  ] as const)('%s: changes nothing', async (_, approval, error) => {
    const r = await run({ approval });
    expect(r.run.status).toBe('FAILED');
    expect(r.run.error).toBe('Cutover.NotApproved');
    expect(r.run.cause).toContain(error);
    expect(r.decisions).toEqual(['APPROVAL_REQUESTED', 'NOT_APPROVED']);
    expect(r.world.notifications[0]!.message).toMatchObject({
      approver: 'alice@example.com',
      taskToken: 'task-token-0001',
      precheck: { ok: true },
    });
    expect(changedSomething(r)).toBe(false);
  });
});

describe('rollback before the flip', () => {
  const expectWeightsBack = (r: CutoverRun) => {
    expect(r.world.weights).toEqual({ source: 100, target: 0 });
    expect(r.world.writers).toHaveLength(1); // no fence operation
    expect(r.world.pointer.writer).toBe('source');
    expect(r.decisions.slice(-2)).toEqual(['ROLLBACK_STARTED', 'ROLLED_BACK']);
  };

  it('an alarm mid-bake rolls the weights back at once', async () => {
    const r = await run({ alarms: [{ name: ALARM, from: 420 }] });
    expect(r.run.status).toBe('FAILED');
    expect(r.run.error).toBe('Cutover.RolledBack');
    expect(r.run.cause).toContain('"code":"ALARM"');
    expect(r.run.visited).not.toContain('Evaluate Gate');
    expectWeightsBack(r);
  });

  it('validation failures appearing mid-way fail the next gate', async () => {
    const r = await run({ validationFailsAt: 700 });
    expect(r.run.error).toBe('Cutover.RolledBack');
    expect(r.run.cause).toContain('GATE_FAILED');
    expect(r.run.cause).toContain('Mismatched records');
    expect(r.world.weightHistory.map((w) => w.target)).toEqual([10, 50, 0]);
    expectWeightsBack(r);
  });

  it('a CDC metric that goes missing fails the gate (missing data is failure)', async () => {
    const r = await run({ cdcMissingFrom: 400 });
    expect(r.run.cause).toContain('no CDCLatencySource datapoint');
    expectWeightsBack(r);
  });

  it('an observed split far from the weight (DNS caching) fails the gate', async () => {
    const r = await run({ observedShare: () => 0.02 });
    expect(r.run.cause).toContain('traffic-split');
    expectWeightsBack(r);
  });

  it('a rollback command during a bake rolls back; a command for another execution is ignored', async () => {
    const r = await run({ rollbackCommandAt: 400 });
    expect(r.run.error).toBe('Cutover.RolledBack');
    expect(r.run.cause).toContain('ROLLBACK_COMMAND');
    expectWeightsBack(r);

    const stale = await run({ staleCommand: true });
    expect(stale.run.status).toBe('SUCCEEDED');
  });

  it('a weight change Route 53 never reports in sync rolls back after the phase timeout, not never', async () => {
    const r = await run({ dnsStuckAtChange: 2 });
    expect(r.run.error).toBe('Cutover.RolledBack');
    expect(r.run.cause).toContain('DNS_NOT_IN_SYNC');
    // The stuck change is the 50 % step; the rollback's own change goes through.
    expect(r.world.weightHistory.map((w) => w.target)).toEqual([10, 50, 0]);
    expectWeightsBack(r);
  });
});

describe('rollback after the flip', () => {
  // The last step's split never gets close: its gate fails with the target already the writer.
  const failFinalGate = (p: number) => (p === 100 ? 0.6 : p / 100);

  it('fences the target, drains the reverse task, points back at the source and reports', async () => {
    const r = await run({ observedShare: failFinalGate });
    expect(r.run.error).toBe('Cutover.RolledBack');
    expect(r.world.db.target.writable).toBe(false);
    expect(r.world.db.source.writable).toBe(true);
    expect(r.world.pointer.writer).toBe('source');
    expect(r.world.weights).toEqual({ source: 100, target: 0 });
    expect(r.world.reverse.status).toMatch(/stopping|stopped/);
    const i = (s: string) => callIndex(r, s);
    expect(i('Rollback: Fence Target')).toBeLessThan(i('Rollback: Evaluate Reverse Drain'));
    expect(i('Rollback: Evaluate Reverse Drain')).toBeLessThan(i('Rollback: Unfence Source'));
    expect(i('Rollback: Advance Source Sequences')).toBeLessThan(i('Rollback: Unfence Source'));
    const report = r.world.notifications.find((n) => n.decision === 'ROLLED_BACK')!.message.report as Record<
      string,
      unknown
    >;
    expect(report).toMatchObject({
      phase: 'post-flip',
      rowsWrittenSinceFlip: { source: 0, target: expect.any(Number) },
      reverseApplied: { validationOk: true },
      resumeForwardFrom: { replicationTaskArn: FAKE.forwardTaskArn, cdcStartPosition: expect.stringMatching(/^0\//) },
    });
    expect((report.rowsWrittenSinceFlip as { target: number }).target).toBeGreaterThan(0);
  });

  it('stays fenced and alerts when the reverse task fails during the rollback: never two writers', async () => {
    const r = await run({ observedShare: failFinalGate, reverseFailsDuringRollback: true });
    expect(r.run.status).toBe('FAILED');
    expect(r.run.error).toBe('Cutover.ReverseReplicationFailed');
    expect(r.world.db.source.writable).toBe(false);
    expect(r.world.db.target.writable).toBe(false);
    expect(r.decisions).toContain('REVERSE_REPLICATION_FAILED');
    expect(r.run.visited).not.toContain('Rollback: Unfence Source');
  });

  it('a failed deployment after the flip rolls back through the reverse task', async () => {
    const r = await run({ deploymentFails: true });
    expect(r.run.cause).toContain('DEPLOYMENT_FAILED');
    expect(r.world.db.source.writable).toBe(true);
    expect(r.world.db.target.writable).toBe(false);
  });

  it('a rollback command after a finished cutover (no execution running) moves the data back', async () => {
    const r = await run({ action: 'rollback', pointerWriter: 'target' });
    expect(r.run.status).toBe('SUCCEEDED');
    expect(r.world.pointer.writer).toBe('source');
    expect(r.world.db.source.writable).toBe(true);
    expect(r.world.db.target.writable).toBe(false);
    expect(r.world.weights).toEqual({ source: 100, target: 0 });
  });
});

describe('throttled AWS calls', () => {
  it('are retried and the cutover completes', async () => {
    const throttle = {
      'Pre-check: Read CDC Latency': 3,
      'Change Weights': 2,
      'Fence Source': 1,
      'Describe Reverse Task': 2,
      'Point At Target': 1,
      'Evaluate Gate': 1,
    };
    const r = await run({ throttle });
    expect(r.run.status).toBe('SUCCEEDED');
    expect(r.run.retries).toBe(10);
  });
});

describe('the invariant checker', () => {
  it('fails a history where the target is unfenced before the source is fenced', () => {
    const events = [
      { type: 'StateEntered', timestamp: 0, state: { name: 'Unfence Target', type: 'Task', input: {} } },
      { type: 'StateEntered', timestamp: 1, state: { name: 'Fence Source', type: 'Task', input: {} } },
      { type: 'StateExited', timestamp: 2, state: { name: 'Fence Source', type: 'Task', input: {}, output: {} } },
    ];
    const verdict = checkSingleWriter(synth.definition, { events } as unknown as RunResult, {
      source: true,
      target: false,
    });
    expect(verdict.violations).toEqual(['both databases accept application writes at Unfence Target (entered)']);
  });
});
