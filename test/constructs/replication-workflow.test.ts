/**
 * ReplicationWorkflow in a bare stack, its bucket, topics and task parameter imported: what it
 * creates, what it may do, and that it owns its nag acknowledgements. How the definition behaves
 * when it runs is test/stacks/orchestration-workflow.test.ts.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ManagedReplicationTask } from '../../lib/constructs/managed-replication-task';
import { ReplicationWorkflow } from '../../lib/constructs/replication-workflow';
import {
  ALERTS_TOPIC_ARN,
  DATA_BUCKET,
  DATA_KEY_ARN,
  MESSAGING_KEY_ARN,
  REPLICATION_INSTANCE,
  RESULTS_TOPIC_ARN,
  synthesizeReplicationWorkflow,
  TASK_ARN,
  TASK_ARN_PARAMETER,
  type SynthesizedWorkflow,
} from '../support/dms-simulator';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** Statements of the state machine role's policies, with each action on its own. */
function statements(w: SynthesizedWorkflow): { action: string; resource: string }[] {
  const policies = w.template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
    )
    .flatMap((s) => [s.Action].flat().map((action) => ({ action, resource: JSON.stringify(s.Resource) })));
}
const resourcesOf = (w: SynthesizedWorkflow, action: string): string[] =>
  statements(w)
    .filter((s) => s.action === action)
    .map((s) => s.resource);

describe('ReplicationWorkflow', () => {
  let w: SynthesizedWorkflow;
  beforeAll(() => {
    w = synthesizeReplicationWorkflow();
  });

  it('is a Standard state machine that traces and logs every execution with its data to its own log group', () => {
    const logGroupId = w.stack.getLogicalId(w.workflow.logGroup.node.defaultChild as never);
    w.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
      },
    });
    expect(w.definition.TimeoutSeconds).toBe(7200);
  });

  it('keeps its log group by default, with the retention it is given', () => {
    w.template.hasResource('AWS::Logs::LogGroup', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { RetentionInDays: 14 },
    });
  });

  it('takes the removal policy and timeout it is given', () => {
    const other = synthesizeReplicationWorkflow({
      props: { logRemovalPolicy: RemovalPolicy.DESTROY, timeout: Duration.minutes(90) },
    });
    other.template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    expect(other.definition.TimeoutSeconds).toBe(5400);
  });

  it('works on the inputs it is given, as the literals they were imported with', () => {
    const { States } = w.definition;
    expect(States['Resolve Replication Task']).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:ssm:getParameter',
      Parameters: { Name: TASK_ARN_PARAMETER },
    });
    expect(States['Record Batch']).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:s3:putObject',
      Parameters: {
        Bucket: DATA_BUCKET,
        'Key.$': "States.Format('reports/batches/{}/{}.json', $.dataset, $.correlationId)",
      },
    });
    expect(States['Publish Outcome']).toMatchObject({ Parameters: { TopicArn: RESULTS_TOPIC_ARN } });
    expect(States['Publish Smoke Outcome']).toMatchObject({ Parameters: { TopicArn: RESULTS_TOPIC_ARN } });
    expect(States['Publish Failure']).toMatchObject({
      Parameters: { TopicArn: ALERTS_TOPIC_ARN, Subject: 'Migration batch failed (dev)' },
    });
    expect(JSON.stringify(States['Check CDC Latency']!.Parameters)).toContain(
      `{"Name":"ReplicationInstanceIdentifier","Value":"${REPLICATION_INSTANCE}"}`,
    );
    expect(States['CDC Caught Up?']).toMatchObject({
      Choices: [
        {
          And: [
            { Variable: '$.cdc.values[0]', IsPresent: true },
            { Variable: '$.cdc.values[0]', NumericLessThan: w.config.dms.cdcLatencyThresholdSeconds },
          ],
        },
      ],
    });
  });

  it('names the task generation in the definition, so a replaced task changes the template', () => {
    expect(w.definition.Comment).toMatch(/\(task generation gen-1\)$/);
  });

  it('may read the task parameter, start the task, write batch records and publish to both topics: nothing wider', () => {
    expect(resourcesOf(w, 'ssm:GetParameter')).toEqual([expect.stringContaining(`:parameter${TASK_ARN_PARAMETER}`)]);
    expect(resourcesOf(w, 'dms:StartReplicationTask')).toEqual([JSON.stringify(TASK_ARN)]);
    expect(resourcesOf(w, 'dms:DescribeReplicationTasks')).toEqual(['"*"']);
    expect(resourcesOf(w, 'cloudwatch:GetMetricData')).toEqual(['"*"']);
    const s3Statements = statements(w).filter((s) => s.action.startsWith('s3:'));
    expect(s3Statements.map((s) => s.action)).toContain('s3:PutObject');
    for (const { resource } of s3Statements) expect(resource).toContain(`:s3:::${DATA_BUCKET}/reports/batches/*`);
    expect(resourcesOf(w, 'sns:Publish').sort()).toEqual(
      [JSON.stringify(ALERTS_TOPIC_ARN), JSON.stringify(RESULTS_TOPIC_ARN)].sort(),
    );
    const actions = new Set(statements(w).map((s) => s.action));
    expect([...actions].filter((a) => a.startsWith('kms:'))).toEqual([]);
    expect([...actions].filter((a) => a.startsWith('dms:')).sort()).toEqual([
      'dms:DescribeReplicationTasks',
      'dms:StartReplicationTask',
    ]);
  });

  it('may use the keys of an encrypted bucket and encrypted topics, and no other key', () => {
    const encrypted = synthesizeReplicationWorkflow({ encrypted: true });
    const kmsResources = statements(encrypted)
      .filter((s) => s.action.startsWith('kms:'))
      .map((s) => s.resource);
    expect(kmsResources.length).toBeGreaterThan(0);
    expect(new Set(kmsResources)).toEqual(new Set([JSON.stringify(DATA_KEY_ARN), JSON.stringify(MESSAGING_KEY_ARN)]));
  });

  it('takes the ManagedReplicationTask object itself and reads the parameter it owns', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Replication', { env: { account: '123456789012', region: 'us-west-2' } });
    const task = new ManagedReplicationTask(stack, 'Task', {
      replicationInstanceArn: 'arn:aws:dms:us-west-2:123456789012:rep:INSTANCE',
      sourceEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:SOURCE',
      targetEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:TARGET',
      tableMappings: { rules: [] },
      replicationTaskSettings: {},
      logRetention: logs.RetentionDays.TWO_WEEKS,
    });
    new ReplicationWorkflow(stack, 'Workflow', {
      replicationTask: task,
      replicationInstanceIdentifier: REPLICATION_INSTANCE,
      dataBucket: s3.Bucket.fromBucketName(stack, 'Bucket', DATA_BUCKET),
      resultsTopic: sns.Topic.fromTopicArn(stack, 'Results', RESULTS_TOPIC_ARN),
      alertsTopic: sns.Topic.fromTopicArn(stack, 'Alerts', ALERTS_TOPIC_ARN),
      envName: 'dev',
      cdcLatencyThresholdSeconds: 60,
      logRetention: logs.RetentionDays.TWO_WEEKS,
    });
    const parameterId = stack.getLogicalId(task.taskArnParameter.node.defaultChild as never);
    const taskId = stack.getLogicalId(task.resource.node.defaultChild as never);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionString: {
        'Fn::Join': ['', Match.arrayWith([{ Ref: parameterId }])],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'dms:StartReplicationTask', Resource: { 'Fn::GetAtt': [taskId, 'TaskArn'] } }),
        ]),
      },
    });
  });

  it.each([
    ['imported plain inputs', false],
    ['an encrypted bucket and encrypted topics', true],
  ])('leaves no unacknowledged AwsSolutions finding with %s', (_case, encrypted) => {
    const { stack } = synthesizeReplicationWorkflow({ encrypted });
    const app = stack.node.root;
    expect(unacknowledgedAwsSolutionsFindings(app)).toEqual([]);
  });
});
