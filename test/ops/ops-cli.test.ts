import 'aws-sdk-client-mock-jest';
import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodePipelineClient,
  GetPipelineStateCommand,
  PutApprovalResultCommand,
  type ActionExecutionStatus,
  type GetPipelineStateCommandOutput,
} from '@aws-sdk/client-codepipeline';
import {
  DatabaseMigrationServiceClient,
  DescribeReplicationInstancesCommand,
  DescribeReplicationTasksCommand,
  ModifyReplicationTaskCommand,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { STAGE_IDS } from '../../lib/pipeline/pipeline-stack';
import { parseArgs, UsageError } from '../../scripts/ops/args';
import { createClients } from '../../scripts/ops/clients';
import { runCli, type CliDeps } from '../../scripts/ops/cli';
import { planDms } from '../../scripts/ops/dms';
import { PIPELINE_STAGE_IDS } from '../../scripts/ops/locate';

const cfn = mockClient(CloudFormationClient);
const ssm = mockClient(SSMClient);
const dms = mockClient(DatabaseMigrationServiceClient);
const cloudWatch = mockClient(CloudWatchClient);
const sfn = mockClient(SFNClient);
const sts = mockClient(STSClient);
const codePipeline = mockClient(CodePipelineClient);
const ALL = [cfn, ssm, dms, cloudWatch, sfn, sts, codePipeline];

const ACCOUNT = '111111111111';
const TASK_ARN = 'arn:aws:dms:us-west-2:111111111111:task:CURRENTTASK';
const PARAMETER = 'CFN-ReplicationTaskTaskArnParameter-XYZ';
const STATE_MACHINE_ARN = 'arn:aws:states:us-west-2:111111111111:stateMachine:ReplicationWorkflow-abc';
const INSTANCE_ARN = 'arn:aws:dms:us-west-2:111111111111:rep:INSTANCE';

function stack(name: string, outputs: Record<string, string>) {
  cfn.on(DescribeStacksCommand, { StackName: name }).resolves({
    Stacks: [
      {
        StackName: name,
        CreationTime: new Date(),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

function task(Status: string) {
  dms.on(DescribeReplicationTasksCommand).resolves({
    ReplicationTasks: [
      {
        ReplicationTaskArn: TASK_ARN,
        Status,
        ReplicationInstanceArn: INSTANCE_ARN,
        ...(Status === 'running' ? { ReplicationTaskStats: { FullLoadProgressPercent: 100 } } : {}),
      },
    ],
  });
}

function pipeline(opts: { smokeDev?: ActionExecutionStatus; waiting?: boolean } = {}): GetPipelineStateCommandOutput {
  const state: GetPipelineStateCommandOutput = {
    $metadata: {},
    pipelineName: 'Pipeline-Pipeline9850B417-ABC',
    stageStates: [
      { stageName: 'Source', latestExecution: { pipelineExecutionId: 'e1', status: 'Succeeded' } },
      {
        stageName: 'Dev',
        latestExecution: { pipelineExecutionId: 'e1', status: 'Succeeded' },
        actionStates: [
          {
            actionName: 'SmokeTest-dev',
            latestExecution: { status: opts.smokeDev ?? 'Succeeded', summary: 'smoke: 3 passed, 0 failed' },
          },
        ],
      },
      {
        stageName: 'Staging',
        latestExecution: { pipelineExecutionId: 'e1', status: 'InProgress' },
        actionStates: [
          {
            actionName: 'Promote-to-staging',
            latestExecution:
              opts.waiting === false ? { status: 'Succeeded' } : { status: 'InProgress', token: 'approval-token-1' },
          },
        ],
      },
    ],
  };
  codePipeline.on(GetPipelineStateCommand).resolves(state);
  return state;
}

let out: string[];
let err: string[];
let confirmations: string[];
let answer: boolean;

const deps = (): CliDeps => ({
  clients: createClients,
  confirm: async (q) => {
    confirmations.push(q);
    return answer;
  },
  out: (l) => out.push(l),
  err: (l) => err.push(l),
  env: { DEV_ACCOUNT: ACCOUNT, STAGING_ACCOUNT: ACCOUNT, PROD_ACCOUNT: ACCOUNT },
  now: () => new Date('2026-12-05T12:00:00Z'),
});
const ops = (...argv: string[]) => runCli(argv, deps());

beforeEach(() => {
  for (const c of ALL) c.reset();
  out = [];
  err = [];
  confirmations = [];
  answer = false;
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Operator/jane` });
  for (const stage of ['Dev', 'Staging', 'Prod']) {
    stack(`${stage}-Dms`, {
      ReplicationTaskArn: 'arn:aws:dms:us-west-2:111111111111:task:STALE',
      ReplicationTaskArnParameterName: PARAMETER,
    });
    stack(`${stage}-Orchestration`, { StateMachineArn: STATE_MACHINE_ARN });
  }
  cfn.on(DescribeStackResourcesCommand, { StackName: 'Pipeline' }).resolves({
    StackResources: [
      {
        LogicalResourceId: 'Pipeline9850B417',
        PhysicalResourceId: 'Pipeline-Pipeline9850B417-ABC',
        ResourceType: 'AWS::CodePipeline::Pipeline',
        Timestamp: new Date(),
        ResourceStatus: 'UPDATE_COMPLETE',
      },
    ],
  });
  ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({ Parameter: { Name: PARAMETER, Value: TASK_ARN } });
  dms.on(DescribeReplicationInstancesCommand).resolves({
    ReplicationInstances: [
      { ReplicationInstanceArn: INSTANCE_ARN, ReplicationInstanceIdentifier: 'dev-dms-replication' },
    ],
  });
  cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'cdc', Values: [] }] });
  sfn.on(ListExecutionsCommand).resolves({
    executions: [
      {
        executionArn: `${STATE_MACHINE_ARN.replace('stateMachine', 'execution')}:abc`,
        stateMachineArn: STATE_MACHINE_ARN,
        name: '5e0be5e0be5e0be5e0be5e0be5e0be5e',
        status: 'SUCCEEDED',
        startDate: new Date('2026-12-05T11:00:00Z'),
      },
    ],
  });
  dms.on(StartReplicationTaskCommand).resolves({ ReplicationTask: { Status: 'starting' } });
  dms.on(StopReplicationTaskCommand).resolves({ ReplicationTask: { Status: 'stopping' } });
  codePipeline.on(PutApprovalResultCommand).resolves({ approvedAt: new Date() });
});

afterAll(() => {
  for (const c of ALL) c.restore();
});

describe('arguments', () => {
  test.each([
    [['status'], /status needs --env <dev\|staging\|prod>/],
    [['status', '--env', 'qa'], /--env 'qa' is not an environment; use one of dev, staging, prod/],
    [['dms', '--env', 'dev'], /dms needs a verb: start, stop or resume/],
    [['dms', 'restart', '--env', 'dev'], /dms 'restart' is unknown/],
    [['approve', 'dev'], /only staging and prod wait for an approval/],
    [['approve', 'prod', '--env', 'staging'], /the two name different environments/],
    [['deploy', '--env', 'dev'], /unknown command 'deploy'/],
    [['status', '--env'], /--env needs a value/],
    [['status', '--env', 'dev', '--force'], /unknown option --force/],
  ])('%j is refused with a message naming the problem', async (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
    expect(await ops(...argv)).toBe(2);
    expect(err.join('\n')).toMatch(/Usage: npm run ops/);
    for (const c of ALL) expect(c).not.toHaveReceivedAnyCommand();
  });

  test('accepts --env=value, a sandbox and a region', () => {
    expect(parseArgs(['dms', 'stop', '--env=dev', '--sandbox', 'alice', '--region', 'eu-west-1'])).toEqual({
      kind: 'dms',
      verb: 'stop',
      env: 'dev',
      sandbox: 'alice',
      region: 'eu-west-1',
      yesIMeanProd: false,
    });
  });

  test('uses the pipeline stage ids the pipeline uses', () => {
    expect(PIPELINE_STAGE_IDS).toEqual(STAGE_IDS);
  });
});

describe('dms plan', () => {
  test.each([
    ['start', 'ready', 'start', 'start-replication'],
    ['start', 'stopped', 'none', undefined],
    ['start', 'running', 'none', undefined],
    ['resume', 'stopped', 'start', 'resume-processing'],
    ['resume', 'failed', 'start', 'resume-processing'],
    ['resume', 'ready', 'none', undefined],
    ['stop', 'running', 'stop', undefined],
    ['stop', 'stopped', 'none', undefined],
    ['start', 'starting', 'none', undefined],
  ] as const)('%s on a %s task: %s %s', (verb, status, call, startType) => {
    const plan = planDms(verb, status);
    expect(plan.call).toBe(call);
    if (startType) expect(plan).toMatchObject({ startType });
  });
});

describe('status', () => {
  test('shows pipeline stages, the waiting approval with the smoke test before it, DMS and executions', async () => {
    pipeline();
    task('ready');
    expect(await ops('status', '--env', 'dev')).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('Stage Dev (us-west-2)');
    expect(text).toContain('Pipeline-Pipeline9850B417-ABC: Source Succeeded | Dev Succeeded | Staging InProgress');
    expect(text).toContain('SmokeTest-dev: Succeeded (smoke: 3 passed, 0 failed)');
    expect(text).toContain(
      'WAITING: Promote-to-staging; smoke test before it: SmokeTest-dev Succeeded -> npm run ops -- approve staging',
    );
    expect(text).toContain(TASK_ARN);
    expect(text).toContain('status ready');
    expect(text).toContain('CDC latency: none (the task is not running)');
    expect(text).toContain('never started: npm run ops -- dms start --env dev');
    expect(text).toContain('SUCCEEDED 5e0be5e0be5e0be5e0be5e0be5e0be5e');
    // Found through the stack outputs and the parameter: the stale ARN output is never used.
    expect(dms).toHaveReceivedCommandWith(DescribeReplicationTasksCommand, {
      Filters: [{ Name: 'replication-task-arn', Values: [TASK_ARN] }],
    });
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { stateMachineArn: STATE_MACHINE_ARN });
  });

  test('reports CDC latency of a running task against the bound, and silence as a problem', async () => {
    pipeline({ waiting: false });
    task('running');
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'cdc', Values: [7] }] });
    await ops('status', '--env', 'dev');
    expect(out.join('\n')).toMatch(/CDC latency: 7 s \(bound \d+ s\)/);
    expect(cloudWatch).toHaveReceivedCommandWith(GetMetricDataCommand, {
      MetricDataQueries: [
        expect.objectContaining({
          MetricStat: expect.objectContaining({
            Metric: expect.objectContaining({
              Dimensions: [
                { Name: 'ReplicationInstanceIdentifier', Value: 'dev-dms-replication' },
                { Name: 'ReplicationTaskIdentifier', Value: 'CURRENTTASK' },
              ],
            }),
          }),
        }),
      ],
    });

    out = [];
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'cdc', Values: [] }] });
    await ops('status', '--env', 'dev');
    expect(out.join('\n')).toContain('no datapoint in 15 min (a running task should publish one');
  });

  test('a stage that is not deployed is named, and the pipeline section still shows', async () => {
    pipeline();
    cfn
      .on(DescribeStacksCommand, { StackName: 'Staging-Dms' })
      .rejects(Object.assign(new Error('Stack with id Staging-Dms does not exist'), { name: 'ValidationError' }));
    expect(await ops('status', '--env', 'staging')).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('Stack Staging-Dms is not deployed in us-west-2: is the staging stage deployed');
    expect(text).toContain('WAITING: Promote-to-staging');
  });
});

describe('credentials and accounts', () => {
  test('missing credentials end with one clear message and no other call', async () => {
    sts.on(GetCallerIdentityCommand).rejects(
      // What the SDK's default chain throws when it finds nothing (@smithy CredentialsProviderError).
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
    );
    expect(await ops('dms', 'start', '--env', 'dev')).toBe(1);
    expect(err.join('\n')).toMatch(
      /^No AWS credentials found while checking your AWS credentials for dev\. Sign in first/,
    );
    for (const c of [cfn, ssm, dms, cloudWatch, sfn, codePipeline]) expect(c).not.toHaveReceivedAnyCommand();
  });

  test('credentials for another account are refused before anything is read', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '222222222222', Arn: 'arn:aws:sts::222222222222:assumed-role/x/y' });
    expect(await ops('status', '--env', 'dev')).toBe(1);
    expect(err[0]).toBe(
      'Your credentials are for account 222222222222, but dev is in 111111111111: switch profile (AWS_PROFILE) and retry.',
    );
    expect(cfn).not.toHaveReceivedAnyCommand();
  });
});

describe('dms', () => {
  test('start on a never-started task sends start-replication to the task the parameter names', async () => {
    task('ready');
    expect(await ops('dms', 'start', '--env', 'dev')).toBe(0);
    expect(dms).toHaveReceivedCommandWith(StartReplicationTaskCommand, {
      ReplicationTaskArn: TASK_ARN,
      StartReplicationTaskType: 'start-replication',
    });
    expect(confirmations).toEqual([]);
    expect(out[0]).toContain('start-replication requested; task is starting');
  });

  test('resume on a task that never ran changes nothing and says what to use', async () => {
    task('ready');
    expect(await ops('dms', 'resume', '--env', 'dev')).toBe(1);
    expect(err[0]).toContain("the task has never run; use 'dms start'");
    expect(dms).not.toHaveReceivedCommand(StartReplicationTaskCommand);
    expect(dms).not.toHaveReceivedCommand(ModifyReplicationTaskCommand);
  });

  test('prod asks for confirmation; a refusal changes nothing', async () => {
    task('running');
    answer = false;
    expect(await ops('dms', 'stop', '--env', 'prod')).toBe(1);
    expect(confirmations).toEqual([
      `You are about to stop DMS task ${TASK_ARN} in Prod (stop replication (CDC pauses; resume later)). Type 'prod' to go on: `,
    ]);
    expect(err[0]).toMatch(/^Not confirmed: nothing changed\..*--yes-i-mean-prod/);
    expect(dms).not.toHaveReceivedCommand(StopReplicationTaskCommand);

    answer = true;
    expect(await ops('dms', 'stop', '--env', 'prod')).toBe(0);
    expect(dms).toHaveReceivedCommandWith(StopReplicationTaskCommand, { ReplicationTaskArn: TASK_ARN });
  });

  test('--yes-i-mean-prod confirms without a prompt', async () => {
    task('stopped');
    expect(await ops('dms', 'resume', '--env', 'prod', '--yes-i-mean-prod')).toBe(0);
    expect(confirmations).toEqual([]);
    expect(dms).toHaveReceivedCommandWith(StartReplicationTaskCommand, {
      StartReplicationTaskType: 'resume-processing',
    });
  });

  test('a sandbox stage is found by its own stack names', async () => {
    stack('Sandbox-alice-Dms', { ReplicationTaskArnParameterName: PARAMETER });
    stack('Sandbox-alice-Orchestration', { StateMachineArn: STATE_MACHINE_ARN });
    task('ready');
    expect(await ops('dms', 'start', '--env', 'dev', '--sandbox', 'alice')).toBe(0);
    expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'Sandbox-alice-Dms' });
  });
});

describe('approve', () => {
  test('approves the waiting promotion with its token when the smoke test before it passed', async () => {
    pipeline();
    expect(await ops('approve', 'staging')).toBe(0);
    expect(codePipeline).toHaveReceivedCommandWith(PutApprovalResultCommand, {
      pipelineName: 'Pipeline-Pipeline9850B417-ABC',
      stageName: 'Staging',
      actionName: 'Promote-to-staging',
      token: 'approval-token-1',
      result: {
        status: 'Approved',
        summary: `Approved by arn:aws:sts::${ACCOUNT}:assumed-role/Operator/jane with npm run ops`,
      },
    });
    expect(out[0]).toBe('Approved Promote-to-staging (smoke test SmokeTest-dev: Succeeded)');
  });

  test('refuses when the smoke test before it failed', async () => {
    pipeline({ smokeDev: 'Failed' });
    expect(await ops('approve', 'staging')).toBe(1);
    expect(err[0]).toContain('Not approving staging: the smoke test SmokeTest-dev is Failed');
    expect(codePipeline).not.toHaveReceivedCommand(PutApprovalResultCommand);
  });

  test('says so when nothing is waiting', async () => {
    pipeline({ waiting: false });
    expect(await ops('approve', 'staging')).toBe(1);
    expect(err[0]).toMatch(/^No approval is waiting for staging in pipeline Pipeline-Pipeline9850B417-ABC/);
  });

  test('a pipeline that is not deployed is named with what to do', async () => {
    cfn
      .on(DescribeStackResourcesCommand, { StackName: 'Pipeline' })
      .rejects(Object.assign(new Error('Stack with id Pipeline does not exist'), { name: 'ValidationError' }));
    expect(await ops('approve', 'staging')).toBe(1);
    expect(err[0]).toMatch(/^Stack Pipeline is not deployed in us-west-2: deploy the pipeline first/);
  });

  test('approving prod needs the confirmation too', async () => {
    pipeline();
    expect(await ops('approve', 'prod')).toBe(1);
    expect(confirmations).toHaveLength(1);
    expect(codePipeline).not.toHaveReceivedAnyCommand();
  });
});
