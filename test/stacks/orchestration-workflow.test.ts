/**
 * Executes the OrchestrationStack's synthesized state machine against a fake DMS task in virtual
 * time (test/support/dms-simulator.ts): which start type it sends, how it polls, when it records
 * and publishes, and that nothing but a running task with a complete full load and caught-up CDC
 * counts as replicated.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import {
  CDC_WAIT_SECONDS,
  FULL_LOAD_POLL_SCHEDULE,
  SMOKE_ACCEPTED_TASK_STATUSES,
  SMOKE_DATASET,
  TRANSITION_WAIT_SECONDS,
} from '../../lib/constructs/replication-workflow';
import { taskError, type AslState, type Json } from '../support/asl';
import {
  batchInput,
  CDC_WAIT_STATE,
  fullLoadWaitState,
  simulate,
  synthesizeReplicationWorkflow,
  TRANSITION_WAIT_STATE,
  type DmsScenario,
  type Simulation,
  type SynthesizedWorkflow,
} from '../support/dms-simulator';

const THROTTLED = 'DatabaseMigration.ThrottlingException';

let workflow: SynthesizedWorkflow;

beforeAll(() => {
  workflow = synthesizeReplicationWorkflow();
});

/** Runs a scenario and checks the invariant every run must keep: the waits entered are the schedule's. */
async function run(scenario: DmsScenario, input = batchInput()): Promise<Simulation> {
  const s = await simulate(workflow, scenario, input);
  expect(s.waitsEntered).toEqual(s.waitsExpected);
  return s;
}

/**
 * The states of one look at the task: the describe, an optional Pass that reshapes its answer, the
 * decision. Whether the Pass exists is the stack's business; the order around it is what matters.
 */
const look = (): string[] => [
  'Describe Replication Task',
  ...('Read Task State' in workflow.definition.States ? ['Read Task State'] : []),
  'Task Status?',
];

/** The first state of every execution: the current task ARN from its SSM parameter (ADR 0009). */
const RESOLVE = 'Resolve Replication Task';
/** How every execution begins: resolve the task once, then the first look. */
const firstLook = (): string[] => [RESOLVE, ...look()];

const inCdc: DmsScenario = { initialStatus: 'running', fullLoadSeconds: 3600, ranSeconds: 86_400 };
const count = (s: Simulation, state: string): number => s.run.visited.filter((v) => v === state).length;
const enteredInput = (s: Simulation, state: string): unknown =>
  s.run.events.find((e) => e.type === 'StateEntered' && e.state?.name === state)?.state?.input;

describe('synthesized state machine', () => {
  it('logs everything, traces, and times out after two hours', () => {
    workflow.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      TracingConfiguration: { Enabled: true },
    });
    expect(workflow.definition.TimeoutSeconds).toBe(7200);
  });

  it('has one Wait state per polling-policy entry, waiting what the policy says', () => {
    const waits = Object.entries(workflow.definition.States).filter(([, s]) => s.Type === 'Wait');
    const seconds = Object.fromEntries(waits.map(([name, s]: [string, AslState]) => [name, s.Seconds]));
    expect(seconds).toEqual({
      ...Object.fromEntries(FULL_LOAD_POLL_SCHEDULE.map((r) => [fullLoadWaitState(r.waitSeconds), r.waitSeconds])),
      [TRANSITION_WAIT_STATE]: TRANSITION_WAIT_SECONDS,
      [CDC_WAIT_STATE]: CDC_WAIT_SECONDS,
    });
  });
});

describe('a task already replicating', () => {
  it('records and publishes the batch without starting anything', async () => {
    const input = batchInput('c0ffee00c0ffee00c0ffee00c0ffee00', 'customers');
    const s = await run({ ...inCdc, cdcLatencies: [7] }, input);

    expect(s.status).toBe('SUCCEEDED');
    expect(s.sim.starts).toEqual([]);
    expect(s.run.visited).toEqual([
      ...firstLook(),
      'Check CDC Latency',
      'CDC Caught Up?',
      'Record Batch',
      'Publish Outcome',
      'Batch Replicated',
    ]);

    expect(s.sim.publications).toHaveLength(1);
    const [outcome] = s.sim.publications;
    expect(outcome).toMatchObject({
      state: 'Publish Outcome',
      TopicArn: workflow.resultsTopicArn,
      Message: {
        status: 'REPLICATED',
        correlationId: input.correlationId,
        dataset: 'customers',
        key: input.key,
        cdcLatencySeconds: 7,
      },
      MessageAttributes: {
        status: { DataType: 'String', StringValue: 'REPLICATED' },
        dataset: { DataType: 'String', StringValue: 'customers' },
        correlationId: { DataType: 'String', StringValue: input.correlationId },
      },
    });

    expect(s.sim.puts).toHaveLength(1);
    const [put] = s.sim.puts;
    expect(put).toMatchObject({
      Bucket: workflow.bucketName,
      Key: `reports/batches/customers/${input.correlationId}.json`,
      ContentType: 'application/json',
      taskStatus: 'running',
    });
    // The record is the workflow's state at that point: the batch, the task as DMS described it, the latency.
    const body = JSON.parse(put!.Body) as Record<string, Json>;
    expect(body).toEqual(enteredInput(s, 'Record Batch'));
    expect(body).toMatchObject(input);
    expect(JSON.stringify(body)).toContain(JSON.stringify(s.sim.describes.at(-1)!.task));
    expect(JSON.stringify(body)).toContain('"values":[7]');
  });

  it('asks CloudWatch for this task’s CDCLatencyTarget', async () => {
    const s = await run(inCdc);
    expect(s.sim.metricQueries).toHaveLength(1);
    expect(s.sim.metricQueries[0]).toMatchObject({
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        {
          MetricStat: {
            Metric: {
              Namespace: 'AWS/DMS',
              MetricName: 'CDCLatencyTarget',
              Dimensions: [
                { Name: 'ReplicationInstanceIdentifier', Value: 'test-dms-replication' },
                { Name: 'ReplicationTaskIdentifier', Value: 'ABCDEFGHIJKLMNOP' },
              ],
            },
            Stat: 'Maximum',
          },
        },
      ],
    });
  });
});

describe('making sure the task runs', () => {
  it('resumes a stopped task with resume-processing, then succeeds once it runs', async () => {
    // Slower to resume than one transition wait, so the workflow also sees `resuming`.
    const s = await run({ ...inCdc, initialStatus: 'stopped', startupSeconds: 45 });

    expect(s.status).toBe('SUCCEEDED');
    expect(s.sim.starts).toEqual([
      expect.objectContaining({ state: 'Resume Replication', type: 'resume-processing', from: 'stopped' }),
    ]);
    expect(s.sim.describes.map((d) => d.task.Status)).toEqual(['stopped', 'resuming', 'running']);
    expect(s.waitsEntered).toEqual([TRANSITION_WAIT_STATE, TRANSITION_WAIT_STATE]);
    expect(s.sim.puts.map((p) => p.taskStatus)).toEqual(['running']);
  });

  it('starts a task that never ran with start-replication', async () => {
    const s = await run({ initialStatus: 'ready', fullLoadSeconds: 30, startupSeconds: 20 });

    expect(s.status).toBe('SUCCEEDED');
    expect(s.sim.starts).toEqual([
      expect.objectContaining({ state: 'Start Replication', type: 'start-replication', from: 'ready' }),
    ]);
    expect(s.run.visited.slice(0, firstLook().length + 2)).toEqual([
      ...firstLook(),
      'Start Replication',
      TRANSITION_WAIT_STATE,
    ]);
    expect(s.sim.publications.map((p) => p.state)).toEqual(['Publish Outcome']);
  });

  it('polls a one-hour full load from ready within 30 state transitions', async () => {
    const s = await run({ initialStatus: 'ready', fullLoadSeconds: 3600 });
    const n = s.run.transitions;
    console.log(
      `one-hour full load: ${n} state transitions ` +
        `(noticed ${s.sim.pollingLatencySeconds()} s after it finished; ${s.sim.describes.length} DescribeReplicationTasks calls)`,
    );

    expect(s.status).toBe('SUCCEEDED');
    // Progress is elapsed / 3600 s; the load completes during the run, and the workflow sees it.
    expect(s.sim.fullLoadFinishedAt).toBeDefined();
    expect(s.sim.pollingLatencySeconds()).toBeGreaterThanOrEqual(0);
    expect(s.sim.describes.filter((d) => d.task.ReplicationTaskStats?.FullLoadProgressPercent === 100)).toHaveLength(1);
    expect(n).toBeLessThanOrEqual(30);
  });
});

describe('CDC latency', () => {
  it('waits on Wait For CDC while latency is above the bound, then succeeds', async () => {
    const bound = workflow.config.dms.cdcLatencyThresholdSeconds;
    const s = await run({ ...inCdc, cdcLatencies: [bound * 5, bound, bound - 1] });

    expect(s.status).toBe('SUCCEEDED');
    expect(s.waitsEntered).toEqual([CDC_WAIT_STATE, CDC_WAIT_STATE]);
    expect(count(s, 'Check CDC Latency')).toBe(3);
    expect(s.sim.publications[0]!.Message).toMatchObject({ cdcLatencySeconds: bound - 1 });
    expect(s.sim.now).toBe(2 * CDC_WAIT_SECONDS);
  });

  it('does not take missing datapoints for health', async () => {
    const s = await run({ ...inCdc, cdcLatencies: [null, 3] });

    expect(s.run.visited.slice(0, firstLook().length + 3)).toEqual([
      ...firstLook(),
      'Check CDC Latency',
      'CDC Caught Up?',
      CDC_WAIT_STATE,
    ]);
    expect(s.status).toBe('SUCCEEDED');
    expect(s.sim.publications[0]!.Message).toMatchObject({ cdcLatencySeconds: 3 });
  });

  it('never succeeds while CloudWatch has no datapoints', async () => {
    const s = await run({ ...inCdc, cdcLatencies: [null] });

    expect(s.status).toBe('TIMED_OUT');
    expect(s.run.visited).not.toContain('Record Batch');
    expect(s.sim.puts).toEqual([]);
    expect(s.sim.publications.map((p) => p.state)).not.toContain('Publish Outcome');
  });
});

describe('failures', () => {
  it('fails a failed task as DMS.TaskNotHealthy and alerts, without recording the batch', async () => {
    const message = 'Last Error Task error notification received from subtask 0; Error executing source loop';
    const input = batchInput();
    const s = await run({ initialStatus: 'failed', ranSeconds: 1200, lastFailureMessage: message }, input);

    expect(s.status).toBe('FAILED');
    expect(s.run.error).toBe('DMS.TaskNotHealthy');
    expect(s.run.cause).toContain(message);
    expect(s.run.visited).toEqual([...firstLook(), 'Task Not Healthy', 'Publish Failure', 'Replication Failed']);
    expect(s.sim.starts).toEqual([]);
    expect(s.sim.puts).toEqual([]);
    expect(s.sim.publications).toEqual([
      expect.objectContaining({
        state: 'Publish Failure',
        TopicArn: workflow.alertsTopicArn,
        Message: expect.objectContaining({
          status: 'REPLICATION_FAILED',
          correlationId: input.correlationId,
          error: expect.objectContaining({ Error: 'DMS.TaskNotHealthy' }),
        }),
      }),
    ]);
    expect(JSON.stringify(s.sim.publications[0]!.Message)).toContain(message);
  });

  const throttlingRetrier = () => {
    const retry = workflow.definition.States['Describe Replication Task']?.Retry as
      { ErrorEquals: string[]; MaxAttempts: number }[] | undefined;
    const r = retry?.find((x) => x.ErrorEquals.includes(THROTTLED));
    if (!r) throw new Error(`Describe Replication Task does not retry ${THROTTLED}`);
    return r;
  };

  it('retries throttled describes and succeeds', async () => {
    const s = await run({ ...inCdc, describeErrors: [taskError(THROTTLED), taskError(THROTTLED)] });

    expect(s.status).toBe('SUCCEEDED');
    expect(s.run.retries).toBe(2);
    expect(s.sim.calls.filter((c) => c.state === 'Describe Replication Task')).toHaveLength(3);
    expect(count(s, 'Describe Replication Task')).toBe(1);
  });

  it('retries throttling up to MaxAttempts, and no further', async () => {
    const { MaxAttempts } = throttlingRetrier();
    expect(MaxAttempts).toBeGreaterThan(0);

    const atLimit = await run({
      ...inCdc,
      describeErrors: Array.from({ length: MaxAttempts }, () => taskError(THROTTLED)),
    });
    expect(atLimit.status).toBe('SUCCEEDED');

    const beyond = await run({
      ...inCdc,
      describeErrors: Array.from({ length: MaxAttempts + 1 }, () => taskError(THROTTLED)),
    });
    expect(beyond.status).toBe('FAILED');
    expect(beyond.run.error).toBe(THROTTLED);
    expect(beyond.run.retries).toBe(MaxAttempts);
    expect(beyond.run.visited).toEqual([RESOLVE, 'Describe Replication Task', 'Publish Failure', 'Replication Failed']);
    expect(beyond.sim.publications.map((p) => p.TopicArn)).toEqual([workflow.alertsTopicArn]);
  });

  it('does not retry an unexpected error; it alerts and fails', async () => {
    const s = await run({
      ...inCdc,
      describeErrors: [
        taskError('DatabaseMigration.AccessDeniedException', 'not authorized to DescribeReplicationTasks'),
      ],
    });

    expect(s.status).toBe('FAILED');
    expect(s.run.error).toBe('DatabaseMigration.AccessDeniedException');
    expect(s.run.cause).toContain('not authorized');
    expect(s.run.retries).toBe(0);
    expect(s.run.visited).toEqual([RESOLVE, 'Describe Replication Task', 'Publish Failure', 'Replication Failed']);
    expect(s.sim.publications).toEqual([
      expect.objectContaining({
        TopicArn: workflow.alertsTopicArn,
        Message: expect.objectContaining({
          error: {
            Error: 'DatabaseMigration.AccessDeniedException',
            Cause: 'not authorized to DescribeReplicationTasks',
          },
        }),
      }),
    ]);
  });
});

describe('stopped is never success', () => {
  /** Every batch record was written while the fake task ran, after a look that saw it running. */
  const recordedOnlyWhileRunning = (s: Simulation): void => {
    expect(s.sim.puts.every((p) => p.taskStatus === 'running')).toBe(true);
    const body = JSON.parse(s.sim.puts[0]!.Body) as unknown;
    expect(JSON.stringify(body)).toContain('"Status":"running"');
  };

  it('resumes a task that stops mid-load, and finishes the load before recording', async () => {
    const s = await run({ initialStatus: 'ready', fullLoadSeconds: 600, stopAfterRunningSeconds: 200 });

    expect(s.status).toBe('SUCCEEDED');
    expect(s.sim.starts.map((c) => [c.type, c.from])).toEqual([
      ['start-replication', 'ready'],
      ['resume-processing', 'stopped'],
    ]);
    const statuses = s.sim.describes.map((d) => d.task.Status);
    expect(statuses).toContain('stopped');
    // Nothing between the look that saw it stopped and the resume.
    const i = s.run.visited.findIndex((v, k) => v === 'Resume Replication' && s.run.visited[k - 1] === 'Task Status?');
    expect(i).toBeGreaterThan(0);
    expect(s.run.visited.slice(0, i)).not.toContain('Check CDC Latency');
    recordedOnlyWhileRunning(s);
    expect(s.sim.fullLoadNoticedAt).toBeDefined();
  });

  it('resumes a task that stops while CDC catches up', async () => {
    const s = await run({ ...inCdc, stopAfterRunningSeconds: inCdc.ranSeconds! + 30, cdcLatencies: [600, 4] });

    expect(s.status).toBe('SUCCEEDED');
    expect(s.sim.describes.map((d) => d.task.Status)).toEqual(['running', 'stopped', 'running']);
    expect(s.waitsEntered).toEqual([CDC_WAIT_STATE, TRANSITION_WAIT_STATE]);
    expect(s.sim.starts.map((c) => c.type)).toEqual(['resume-processing']);
    recordedOnlyWhileRunning(s);
  });

  it('fails, and alerts, when DMS refuses to resume a stopped task', async () => {
    const refusal = 'Task cannot be resumed: the recovery checkpoint is no longer valid';
    const s = await run({ ...inCdc, initialStatus: 'stopped', refuseResume: refusal });

    expect(s.status).toBe('FAILED');
    expect(s.run.error).toBe('DatabaseMigration.InvalidResourceStateFault');
    expect(s.run.visited).not.toContain('Check CDC Latency');
    expect(s.run.visited).not.toContain('Batch Replicated');
    expect(s.sim.puts).toEqual([]);
    expect(s.sim.publications).toEqual([
      expect.objectContaining({ state: 'Publish Failure', TopicArn: workflow.alertsTopicArn }),
    ]);
    expect(JSON.stringify(s.sim.publications[0]!.Message)).toContain(refusal);
  });
});

describe('smoke batches (dataset smoke) observe the task and never drive it', () => {
  const smokeInput = () => batchInput('5e0be5e0be5e0be5e0be5e0be5e0be5e', SMOKE_DATASET);
  /** Task states that would start, stop, modify or reload a DMS task: anything but a describe. */
  const dmsChanges = (): string[] =>
    Object.entries(workflow.definition.States)
      .filter(([, st]) => st.Type === 'Task' && /:databasemigration:(?!describe)/.test(String(st.Resource)))
      .map(([name]) => name);

  it('has states that could change the task, and a smoke run enters none of them', () => {
    expect(dmsChanges()).toEqual(['Start Replication', 'Resume Replication']);
  });

  it.each(SMOKE_ACCEPTED_TASK_STATUSES)('passes on a %s task without starting it', async (initialStatus) => {
    const s = await run({ initialStatus, ranSeconds: initialStatus === 'ready' ? 0 : 600 }, smokeInput());

    expect(s.status).toBe('SUCCEEDED');
    expect(s.run.visited).toEqual([
      ...firstLook(),
      'Publish Smoke Outcome',
      'Smoke Check Result',
      'Smoke Check Passed',
    ]);
    expect(s.sim.starts).toEqual([]);
    expect(s.run.visited.filter((v) => dmsChanges().includes(v))).toEqual([]);
    expect(s.sim.calls.map((c) => c.state)).toEqual([RESOLVE, 'Describe Replication Task', 'Publish Smoke Outcome']);
    // Nothing recorded as a replicated batch; the outcome says what was seen.
    expect(s.sim.puts).toEqual([]);
    expect(s.sim.publications).toEqual([
      expect.objectContaining({
        TopicArn: workflow.resultsTopicArn,
        Message: expect.objectContaining({
          status: 'SMOKE_CHECKED',
          replicationTaskStatus: initialStatus,
          replicationTaskArn: workflow.taskArn,
        }),
        MessageAttributes: expect.objectContaining({ status: { DataType: 'String', StringValue: 'SMOKE_CHECKED' } }),
      }),
    ]);
    expect(s.run.output).toMatchObject({
      dataset: SMOKE_DATASET,
      smokeCheck: { replicationTaskStatus: initialStatus, replicationStarted: false },
    });
  });

  it('waits out a task someone is starting, without acting on it', async () => {
    const s = await run({ initialStatus: 'starting', startupSeconds: 20, fullLoadSeconds: 3600 }, smokeInput());

    expect(s.status).toBe('SUCCEEDED');
    expect(s.waitsEntered).toEqual([TRANSITION_WAIT_STATE]);
    expect(s.sim.describes.map((d) => d.task.Status)).toEqual(['starting', 'running']);
    expect(s.sim.starts).toEqual([]);
  });

  it('fails a smoke run on a failed task, and alerts', async () => {
    const s = await run(
      { initialStatus: 'failed', ranSeconds: 100, lastFailureMessage: 'source unreachable' },
      smokeInput(),
    );

    expect(s.status).toBe('FAILED');
    expect(s.run.error).toBe('DMS.TaskNotHealthy');
    expect(s.sim.starts).toEqual([]);
    expect(s.sim.publications.map((p) => p.state)).toEqual(['Publish Failure']);
  });

  it('fails a smoke run when the task does not exist', async () => {
    const s = await run(
      {
        initialStatus: 'ready',
        describeErrors: [taskError('DatabaseMigration.ResourceNotFoundFault', 'Replication Task not found')],
      },
      smokeInput(),
    );

    expect(s.status).toBe('FAILED');
    expect(s.run.error).toBe('DatabaseMigration.ResourceNotFoundFault');
    expect(s.sim.starts).toEqual([]);
    expect(s.sim.publications.map((p) => p.state)).toEqual(['Publish Failure']);
  });

  it('treats any other dataset as real data, even one that merely starts with smoke', async () => {
    const s = await run({ initialStatus: 'ready', fullLoadSeconds: 30 }, batchInput(undefined, 'smoke-orders'));
    expect(s.sim.starts.map((c) => c.type)).toEqual(['start-replication']);
  });

  it('matches the dataset name of the smoke contract the validation job uses', () => {
    const contract = JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'glue', 'contracts', 'smoke.json'), 'utf8'),
    ) as {
      name: string;
    };
    expect(contract.name).toBe(SMOKE_DATASET);
  });
});

describe('the task ARN is read at run time from its SSM parameter', () => {
  const REPLACED = 'arn:aws:dms:us-west-2:123456789012:task:REPLACEDTASK0001';

  it('reads the parameter the DMS stack writes', () => {
    expect(workflow.definition.States[RESOLVE]).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:ssm:getParameter',
      Parameters: { Name: workflow.taskArnParameterName },
    });
  });

  it('describes, starts and measures the task the parameter names, not the one synthesized', async () => {
    const s = await run({ initialStatus: 'ready', fullLoadSeconds: 30, currentTaskArn: REPLACED });

    expect(s.status).toBe('SUCCEEDED');
    expect(s.sim.parameterReads).toEqual([workflow.taskArnParameterName]);
    const described = s.sim.calls.filter((c) => c.state === 'Describe Replication Task');
    expect(described.every((c) => JSON.stringify(c.input).includes(REPLACED))).toBe(true);
    expect(JSON.stringify(s.sim.calls)).not.toContain(workflow.taskArn);
    expect(s.sim.calls.find((c) => c.state === 'Start Replication')!.input).toMatchObject({
      ReplicationTaskArn: REPLACED,
    });
    expect(JSON.stringify(s.sim.metricQueries)).toContain('REPLACEDTASK0001');
  });

  it('grants GetParameter on that parameter only', () => {
    const policies = workflow.template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }).Properties
          .PolicyDocument.Statement,
    );
    const ssmStatements = statements.filter((st) => JSON.stringify(st.Action).includes('ssm:'));
    expect(ssmStatements).toHaveLength(1);
    expect(ssmStatements[0]!.Action).toBe('ssm:GetParameter');
    expect(JSON.stringify(ssmStatements[0]!.Resource)).toContain('parameter');
  });

  it('changes the template when the task generation changes, so a weak reference is read again', () => {
    const other = synthesizeReplicationWorkflow({ taskGeneration: 'gen-2' });
    const comment = (w: SynthesizedWorkflow) => w.definition.Comment;
    expect(comment(workflow)).toContain('gen-1');
    expect(comment(other)).toContain('gen-2');
  });
});
