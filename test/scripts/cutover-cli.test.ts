import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliError, explain, parseArgs, runCommand, type CliArgs } from '../../scripts/cutover/cli';

const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const sts = mockClient(STSClient);
const clients = { sfn: new SFNClient({}), ssm: new SSMClient({}), sts: new STSClient({}) };
const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Cutover';
const EXEC = {
  name: 'cutover-dev-1',
  executionArn: `${ARN.replace('stateMachine', 'execution')}:cutover-dev-1`,
  startDate: new Date('2026-12-05T09:00:00Z'),
};

const planFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-cli-')), 'plan.json');
fs.writeFileSync(
  planFile,
  JSON.stringify({
    steps: [
      { weight: 10, bakeMinutes: 5 },
      { weight: 100, bakeMinutes: 5 },
    ],
    approver: 'alice@example.com',
  }),
);
const args = (command: string): CliArgs =>
  parseArgs([command, '--env', 'dev', '--plan', planFile, '--reason', 'test'], {});

let lines: string[];
const print = (l: string) => lines.push(l);
const now = () => new Date('2026-12-05T10:00:00Z');

beforeEach(() => {
  sfn.reset();
  ssm.reset();
  sts.reset();
  lines = [];
  ssm
    .on(GetParameterCommand, { Name: '/payment/dev/cutover/state-machine-arn' })
    .resolves({ Parameter: { Value: ARN } });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::123456789012:user/alice' });
});

const approvalHistory = (): HistoryEvent[] => [
  {
    type: 'TaskScheduled',
    id: 3,
    timestamp: new Date(),
    taskScheduledEventDetails: {
      resource: 'publish.waitForTaskToken',
      resourceType: 'sns',
      region: 'us-east-1',
      parameters: JSON.stringify({
        TopicArn: 't',
        Message: { decision: 'APPROVAL_REQUESTED', taskToken: 'TOKEN-1', approver: 'alice@example.com' },
      }),
    },
  },
  {
    type: 'TaskStateEntered',
    id: 2,
    timestamp: new Date(),
    stateEnteredEventDetails: { name: 'Request Approval', input: '{}' },
  },
];

describe('arguments', () => {
  it('refuses an unknown command, a missing or unknown --env, and unknown options', () => {
    expect(() => parseArgs(['go', '--env', 'dev'])).toThrow(/unknown command "go"/);
    expect(() => parseArgs(['status'])).toThrow(/--env is required/);
    expect(() => parseArgs(['status', '--env', 'qa'])).toThrow(
      /unknown stage environment "qa"; expected one of dev, staging, prod/,
    );
    expect(() => parseArgs(['status', '--env', 'dev', '--force', 'yes'])).toThrow(/unknown option --force/);
  });
});

describe('commands', () => {
  it('plan validates the file and prints the steps', async () => {
    await runCommand(args('plan'), clients, print);
    expect(lines.join('\n')).toContain('step 2: target 100 %, bake 5 min (5 checks), after the write flip');
  });

  it('a bad plan file is refused with the field named', async () => {
    const bad = planFile.replace('plan.json', 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ steps: [{ weight: 10, bakeMinutes: 5 }], approver: 'a' }));
    await expect(runCommand({ ...args('plan'), planFile: bad }, clients, print)).rejects.toThrow(
      /plan.steps\[0\].weight: the last step must move all traffic/,
    );
  });

  it('start refuses a second concurrent cutover', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [EXEC as never] });
    await expect(runCommand(args('start'), clients, print)).rejects.toThrow(/already running for dev: cutover-dev-1/);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('start runs the plan with a dated name', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    await runCommand(args('start'), clients, print, now);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: ARN,
      name: 'cutover-dev-20261205100000',
    });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!) as {
      action: string;
      plan: { steps: unknown[] };
    };
    expect(input.action).toBe('cutover');
    expect(input.plan.steps).toHaveLength(2);
  });

  it('an environment without the workflow is a clear error', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    await expect(runCommand(args('status'), clients, print)).rejects.toThrow(
      /no cutover workflow for dev in us-east-1/,
    );
  });

  it('status shows step, weights, CDC latency, alarms and a progress line while baking', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [EXEC as never] });
    const input = {
      phase: 'pre-flip',
      plan: { stepCount: 3 },
      current: { step: { number: 2, targetWeight: 50, ticks: 5, bakeSeconds: 300 } },
      bake: { remaining: 2 },
      weights: { after: { source: 50, target: 50 } },
      reads: {
        metrics: {
          MetricDataResults: [
            { Id: 'cdcLatencySource', Values: [3] },
            { Id: 'cdcLatencyTarget', Values: [] },
          ],
        },
        bakeAlarms: { MetricAlarms: [] },
      },
      gate: { summary: 'gate: all 6 checks passed' },
    };
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          type: 'WaitStateEntered',
          id: 9,
          timestamp: new Date(),
          stateEnteredEventDetails: { name: 'Bake', input: JSON.stringify(input) },
        },
      ],
    });
    await runCommand(args('status'), clients, print);
    expect(lines).toEqual(
      expect.arrayContaining([
        'state: Bake, phase: pre-flip',
        'step 2 of 3: target 50 %',
        'weights: source 50, target 50',
        'CDC latency: source 3 s, target no data',
        'alarms: none in ALARM',
        'baking [############........] 3/5 checks, about 2 min left',
      ]),
    );
  });

  it('approve sends the token of the pending approval with who approved', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [EXEC as never] });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: approvalHistory() });
    sfn.on(SendTaskSuccessCommand).resolves({});
    await runCommand(args('approve'), clients, print, now);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'TOKEN-1' });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output).toContain('user/alice');
  });

  it('approve refuses when the execution is not waiting for approval', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [EXEC as never] });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          type: 'TaskStateEntered',
          id: 5,
          timestamp: new Date(),
          stateEnteredEventDetails: { name: 'Fence Source', input: '{}' },
        },
        ...approvalHistory(),
      ],
    });
    await expect(runCommand(args('approve'), clients, print)).rejects.toThrow(/not waiting for approval/);
  });

  it('reject fails the approval task', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [EXEC as never] });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: approvalHistory() });
    await runCommand(args('reject'), clients, print);
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'TOKEN-1', error: 'Cutover.Rejected' });
  });

  it('rollback during a bake writes the command for that execution', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [EXEC as never] });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    await runCommand(args('rollback'), clients, print, now);
    const value = JSON.parse(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.Value!) as Record<string, string>;
    expect(value).toMatchObject({ command: 'rollback', execution: 'cutover-dev-1' });
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: '/payment/dev/cutover/command',
      Overwrite: true,
    });
  });

  it('rollback with nothing running starts a rollback execution', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    await runCommand(args('rollback'), clients, print, now);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!) as Record<
      string,
      unknown
    >;
    expect(input).toMatchObject({ action: 'rollback', plan: null });
  });

  it('explains missing credentials', () => {
    expect(
      explain(
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      ),
    ).toMatch(/no AWS credentials found: set AWS_PROFILE/);
    expect(explain(new CliError('x'))).toBe('x');
  });
});
