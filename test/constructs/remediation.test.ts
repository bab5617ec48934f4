import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { FAILURE_PATTERNS, Remediation } from '../../lib/constructs/remediation';
import { loadEvent } from '../fixtures/events';
import { matchesPattern, normalisePattern } from '../support/event-pattern';
import { actionsOn, HOP, hopStack, statementsOf } from '../support/hop-fixture';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';

// The identities of the documented sample events (test/fixtures/events/README.md).
const TASK_ARN = 'arn:aws:dms:us-east-1:012345678901:task:AAAABBBB0CCCCDDDDEEEEE1FFFF2GGG3FFFFFF3';
const DATASYNC_TASK_ARN = `arn:aws:datasync:${HOP.region}:${HOP.account}:task/task-0123456789abcdef0`;

function build(dataSyncTaskArn = DATASYNC_TASK_ARN) {
  const { app, stack, inputs } = hopStack();
  const taskArnParameter = ssm.StringParameter.fromStringParameterName(stack, 'TaskArn', '/migration/task-arn');
  const remediation = new Remediation(stack, 'Remediation', {
    logRetention: logs.RetentionDays.ONE_MONTH,
    dlqKey: inputs.queueKey,
    resultsTopic: inputs.resultsTopic,
    subscriptionDeadLetterQueue: inputs.subscriptionDeadLetterQueue,
    alertsTopic: inputs.alertsTopic,
    stateTable: { table: inputs.stateTable, key: inputs.key },
    dataBucket: inputs.dataBucket,
    validationJob: inputs.validationJob,
    glueJobMaxRetries: 2,
    stateMachine: inputs.stateMachine,
    stateMachineName: 'state-machine',
    replicationTask: { taskArn: TASK_ARN, taskArnParameter, generation: 'dms-gen-7' },
    allowReloadTarget: false,
    maxAttempts: 3,
    dataSyncTask: { taskArn: dataSyncTaskArn, generation: 'datasync-gen-2' },
    logGroups: {
      glue: logs.LogGroup.fromLogGroupName(stack, 'GlueLogs', '/aws-glue/jobs/error'),
      stateMachine: logs.LogGroup.fromLogGroupName(stack, 'WorkflowLogs', '/aws/vendedlogs/states/workflow'),
      dms: logs.LogGroup.fromLogGroupName(stack, 'DmsLogs', 'dms-tasks-migration'),
    },
    queueKey: inputs.queueKey,
  });
  const template = Template.fromStack(stack);
  return { app, stack, inputs, remediation, template, taskArnParameter };
}

interface RuleProperties {
  Description: string;
  EventPattern: object;
  Targets: Array<{
    Arn: unknown;
    RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
    DeadLetterConfig?: { Arn?: unknown };
  }>;
}

const ruleProperties = (template: Template, stack: Stack, rule: { node: { defaultChild?: unknown } }) =>
  (template.toJSON().Resources[stack.getLogicalId(rule.node.defaultChild as never)] as { Properties: RuleProperties })
    .Properties;

const arnOf = (stack: Stack, c: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [stack.getLogicalId(c.node.defaultChild as never), 'Arn'],
});

type RuleName = keyof typeof FAILURE_PATTERNS;

/** A DataSync execution event (no documented sample exists; built from the fields the event reference names). */
const dataSyncExecution = (taskArn: string, state: string) => ({
  source: 'aws.datasync',
  'detail-type': 'DataSync Task Execution State Change',
  account: HOP.account,
  region: HOP.region,
  resources: [`${taskArn}/execution/exec-0a1b2c3d4e5f60718`],
  detail: { State: state },
});

describe('Remediation', () => {
  const { app, stack, inputs, remediation, template, taskArnParameter } = build();
  const rules = Object.fromEntries(
    (Object.keys(remediation.failureRules) as RuleName[]).map((name) => [
      name,
      ruleProperties(template, stack, remediation.failureRules[name]),
    ]),
  ) as Record<RuleName, RuleProperties>;
  const statements = statementsOf(template, stack, remediation.handler.role);

  test.each([
    ['glue', FAILURE_PATTERNS.glue(HOP.jobName)],
    ['dmsTask', FAILURE_PATTERNS.dmsTask(TASK_ARN)],
    ['stepFunctions', FAILURE_PATTERNS.stepFunctions(HOP.stateMachineArn)],
    ['dataSync', FAILURE_PATTERNS.dataSync(DATASYNC_TASK_ARN)],
  ] as const)('failure rule %s synthesizes the pattern tested against the samples', (name, pattern) => {
    expect(rules[name].EventPattern).toEqual(normalisePattern(pattern));
  });

  test.each([
    ['glue-job-state-change-failed', 'glue'],
    ['glue-job-state-change-timeout', 'glue'],
    ['glue-job-state-change-succeeded', undefined],
    ['dms-replication-task-failed', 'dmsTask'],
    ['dms-replication-task-stopped', undefined],
    ['sfn-execution-failed', 'stepFunctions'],
    ['sfn-execution-aborted', 'stepFunctions'],
    ['sfn-execution-succeeded', undefined],
  ])('sample %s fires %s', (sample, expected) => {
    const event = loadEvent<object>(sample);
    const fired = (Object.keys(rules) as RuleName[]).filter((name) => matchesPattern(rules[name].EventPattern, event));
    expect(fired).toEqual(expected ? [expected] : []);
  });

  test('DataSync errors of this task fire the DataSync rule; successes and other tasks do not', () => {
    const pattern = rules.dataSync.EventPattern;
    expect(matchesPattern(pattern, dataSyncExecution(DATASYNC_TASK_ARN, 'ERROR'))).toBe(true);
    expect(matchesPattern(pattern, dataSyncExecution(DATASYNC_TASK_ARN, 'SUCCESS'))).toBe(false);
    const other = `arn:aws:datasync:${HOP.region}:${HOP.account}:task/task-0fedcba9876543210`;
    expect(matchesPattern(pattern, dataSyncExecution(other, 'ERROR'))).toBe(false);
  });

  test('with no DataSync task (activation failed) the DataSync rule matches nothing', () => {
    const empty = build('');
    const pattern = ruleProperties(empty.template, empty.stack, empty.remediation.failureRules.dataSync).EventPattern;
    expect(matchesPattern(pattern, dataSyncExecution(DATASYNC_TASK_ARN, 'ERROR'))).toBe(false);
  });

  test.each(['glue', 'dmsTask', 'stepFunctions'] as const)(
    'failure rule %s invokes remediation, retrying 4 times for 2 hours, then keeps the event in the DLQ',
    (name) => {
      expect(rules[name].Targets).toEqual([
        expect.objectContaining({
          Arn: arnOf(stack, remediation.handler),
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: arnOf(stack, remediation.eventsDeadLetterQueue) },
        }),
      ]);
    },
  );

  test('DataSync errors go to people (alerts topic), with the same dead-letter queue', () => {
    expect(rules.dataSync.Targets).toEqual([
      expect.objectContaining({
        Arn: HOP.alertsTopicArn,
        RetryPolicy: expect.objectContaining({ MaximumRetryAttempts: 4 }),
        DeadLetterConfig: { Arn: arnOf(stack, remediation.eventsDeadLetterQueue) },
      }),
    ]);
  });

  test('rules naming replaceable tasks carry their generation, so a replacement updates them', () => {
    expect(rules.dmsTask.Description).toContain('dms-gen-7');
    expect(rules.dataSync.Description).toContain('datasync-gen-2');
  });

  test('the events dead-letter queue is encrypted with the queue key and kept 14 days', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: HOP.queueKeyArn,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const queue =
      template.toJSON().Resources[stack.getLogicalId(remediation.eventsDeadLetterQueue.node.defaultChild as never)];
    expect(queue.Properties.KmsMasterKeyId).toBe(HOP.queueKeyArn);
  });

  test('subscribes to FAILED results only, keeping undeliverable ones in the subscription DLQ', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: HOP.resultsTopicArn,
      FilterPolicy: { status: ['FAILED'] },
      RedrivePolicy: { deadLetterTargetArn: HOP.subscriptionDlqArn },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 1);
  });

  test('the function gets every variable the handler reads, prefixes and log groups from one source', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          ALERTS_TOPIC_ARN: HOP.alertsTopicArn,
          STATE_TABLE_NAME: HOP.tableName,
          GLUE_JOB_NAME: HOP.jobName,
          STATE_MACHINE_ARN: HOP.stateMachineArn,
          REPLICATION_TASK_ARN_PARAMETER: '/migration/task-arn',
          REPLICATION_TASK_GENERATION: 'dms-gen-7',
          DATA_BUCKET_NAME: HOP.bucketName,
          QUARANTINE_PREFIX: 'quarantine/',
          INCOMING_PREFIX: 'incoming/',
          MAX_ATTEMPTS: '3',
          ALLOW_RELOAD_TARGET: 'false',
          GLUE_JOB_MAX_RETRIES: '2',
          GLUE_LOG_GROUP: '/aws-glue/jobs/error',
          STATE_MACHINE_LOG_GROUP: '/aws/vendedlogs/states/workflow',
          DMS_LOG_GROUP: 'dms-tasks-migration',
        }),
      },
    });
  });

  test('grants: each repair on this stage’s resources only', () => {
    expect(actionsOn(statements, stack.resolve(inputs.validationJob.jobArn))).toEqual([
      'glue:GetJobRun',
      'glue:GetJobRuns',
      'glue:StartJobRun',
    ]);
    expect(actionsOn(statements, TASK_ARN)).toEqual(['dms:StartReplicationTask']);
    expect(actionsOn(statements, stack.resolve(taskArnParameter.parameterArn))).toEqual(
      expect.arrayContaining(['ssm:GetParameter']),
    );
    expect(actionsOn(statements, HOP.stateMachineArn)).toEqual(['states:StartExecution']);
    expect(
      actionsOn(
        statements,
        stack.resolve(
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: 'state-machine:*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      ),
    ).toEqual(['states:DescribeExecution', 'states:RedriveExecution']);
    expect(actionsOn(statements, HOP.alertsTopicArn)).toEqual(['sns:Publish']);
    expect(actionsOn(statements, stack.resolve(inputs.stateTable.tableArn))).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    const objectArn = (prefix: string) => stack.resolve(inputs.dataBucket.arnForObjects(`${prefix}*`));
    expect(actionsOn(statements, objectArn('incoming/'))).toEqual(expect.arrayContaining(['s3:GetObject*']));
    expect(actionsOn(statements, objectArn('incoming/'))).not.toContain('s3:PutObject');
    expect(actionsOn(statements, objectArn('quarantine/'))).toEqual(expect.arrayContaining(['s3:PutObject']));
    expect(actionsOn(statements, objectArn('quarantine/'))).not.toContain('s3:DeleteObject*');
    expect(actionsOn(statements, '*')).toEqual(
      expect.arrayContaining(['dms:DescribeReplicationTasks', 'dms:DescribeReplications']),
    );
  });

  test('leaves no unacknowledged AwsSolutions finding in a bare stack', () => {
    expect(unacknowledgedAwsSolutionsFindings(app)).toEqual([]);
  });
});
