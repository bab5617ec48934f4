import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { FAILURE_PATTERNS, type FailureRules } from '../../lib/constructs/remediation';
import { AUDIT_PATTERNS, MonitoringStack } from '../../lib/stacks/monitoring-stack';
import { loadEvent } from '../fixtures/events';
import { matchesPattern, normalisePattern } from '../support/event-pattern';

// Our resources carry the identities of the documented sample events (test/fixtures/events/README.md), so the
// verbatim samples are "ours" and the "someone else's" cases change exactly one field.
const ACCOUNT = '012345678912';
const REGION = 'us-east-1';
const JOB_NAME = 'MyJob';
const TASK_RESOURCE_ID = 'AAAABBBB0CCCCDDDDEEEEE1FFFF2GGG3FFFFFF3';
const TASK_ARN = `arn:aws:dms:us-east-1:012345678901:task:${TASK_RESOURCE_ID}`;
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:012345678912:stateMachine:state-machine';
const BUCKET = 'amzn-s3-demo-bucket1';
const DATASYNC_TASK_ARN = `arn:aws:datasync:${REGION}:${ACCOUNT}:task/task-0123456789abcdef0`;
const OTHER_DATASYNC_TASK_ARN = `arn:aws:datasync:${REGION}:${ACCOUNT}:task/task-0fedcba9876543210`;

/** A sample event as read from test/fixtures/events: the envelope fields this file reads or changes. */
interface Event {
  [field: string]: unknown;
  'detail-type': string;
  resources: string[];
  detail: Record<string, unknown>;
}
interface S3Event extends Event {
  detail: { bucket: { name: string }; object: { key: string } };
}

/** The parts of the synthesized resources this file reads. */
interface RuleTarget {
  Arn?: unknown;
  RetryPolicy?: { MaximumRetryAttempts?: number };
  DeadLetterConfig?: { Arn?: { 'Fn::GetAtt'?: string[] } };
}
interface RuleProperties {
  EventPattern: object;
  Targets: RuleTarget[];
}
interface AlarmProperties {
  MetricName?: string;
  TreatMissingData?: string;
  Dimensions?: unknown;
  AlarmActions?: unknown[];
}
const withDetail = (name: string, detail: Record<string, unknown>): Event => {
  const e = loadEvent<Event>(name);
  return { ...e, detail: { ...e.detail, ...detail } };
};

/**
 * DataSync publishes "DataSync Task Execution State Change" (EventBridge event reference, "AWS DataSync events",
 * https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-datasync.html) with the execution ARN
 * (`<task ARN>/execution/exec-<id>`, DataSync API reference, DescribeTaskExecution) in `resources` and the
 * execution status in `detail.State` (QUEUED … SUCCESS | ERROR). Neither page prints a full sample, so this
 * one is built from those fields; there is no file for it in test/fixtures/events.
 */
function dataSyncExecution(taskArn: string, state: 'SUCCESS' | 'ERROR' | 'TRANSFERRING'): Event {
  return {
    version: '0',
    id: '9c0e8b62-1c43-4c4b-9b7e-111122223333',
    'detail-type': 'DataSync Task Execution State Change',
    source: 'aws.datasync',
    account: ACCOUNT,
    time: '2026-01-01T00:00:00Z',
    region: REGION,
    resources: [`${taskArn}/execution/exec-0a1b2c3d4e5f60718`],
    detail: { State: state },
  };
}

/** Every event the rules must tell apart, by a name used in the expectations below. */
const EVENTS: Record<string, Event> = {
  glueFailed: loadEvent('glue-job-state-change-failed'),
  glueTimeout: loadEvent('glue-job-state-change-timeout'),
  glueSucceeded: loadEvent('glue-job-state-change-succeeded'),
  glueStopped: loadEvent('glue-job-state-change-stopped'),
  glueRunningStatus: loadEvent('glue-job-run-status-running'),
  glueFailedOtherJob: withDetail('glue-job-state-change-failed', { jobName: 'SomeoneElsesJob' }),
  dmsTaskFailed: loadEvent('dms-replication-task-failed'),
  dmsTaskStarted: loadEvent('dms-replication-task-state-change'),
  dmsTaskStoppedPlanned: loadEvent('dms-replication-task-stopped'),
  dmsTaskFailedOtherTask: {
    ...loadEvent<Event>('dms-replication-task-failed'),
    resources: ['arn:aws:dms:us-east-1:012345678901:task:ZZZZBBBB0CCCCDDDDEEEEE1FFFF2GGG3FFFFFF9'],
  },
  // DMS Serverless fails as REPLICATION_FAILED under another detail-type. This stage runs a classic
  // full-load-and-cdc task (DmsStack), so the rule deliberately watches task events only; the sample proves
  // the task rule is not accidentally satisfied by the serverless shape.
  dmsServerlessFailed: loadEvent('dms-replication-failed-serverless'),
  sfnFailed: loadEvent('sfn-execution-failed'),
  sfnTimedOut: loadEvent('sfn-execution-timed-out'),
  sfnAborted: loadEvent('sfn-execution-aborted'),
  sfnSucceeded: loadEvent('sfn-execution-succeeded'),
  // The Step Functions page documents RUNNING among the statuses; derived from the SUCCEEDED sample.
  sfnRunning: withDetail('sfn-execution-succeeded', { status: 'RUNNING', stopDate: null, output: null }),
  sfnFailedOtherMachine: withDetail('sfn-execution-failed', {
    stateMachineArn: 'arn:aws:states:us-east-1:012345678912:stateMachine:someone-elses-machine',
  }),
  dataSyncError: dataSyncExecution(DATASYNC_TASK_ARN, 'ERROR'),
  dataSyncSuccess: dataSyncExecution(DATASYNC_TASK_ARN, 'SUCCESS'),
  dataSyncTransferring: dataSyncExecution(DATASYNC_TASK_ARN, 'TRANSFERRING'),
  dataSyncErrorOtherTask: dataSyncExecution(OTHER_DATASYNC_TASK_ARN, 'ERROR'),
  s3ObjectCreated: loadEvent('s3-object-created'),
};

type FailureRule = keyof typeof FAILURE_PATTERNS;
type AuditRule = keyof typeof AUDIT_PATTERNS;

/** Which failure rules each event must fire; an event not listed fires none. */
const FAILURES_FIRED: Partial<Record<keyof typeof EVENTS, FailureRule[]>> = {
  glueFailed: ['glue'],
  glueTimeout: ['glue'],
  dmsTaskFailed: ['dmsTask'],
  sfnFailed: ['stepFunctions'],
  sfnTimedOut: ['stepFunctions'],
  sfnAborted: ['stepFunctions'],
  dataSyncError: ['dataSync'],
};

/** Which audit rules each event must reach: every event of our own resources, nobody else's. */
const AUDITS_FIRED: Partial<Record<keyof typeof EVENTS, AuditRule[]>> = {
  glueFailed: ['glue'],
  glueTimeout: ['glue'],
  glueSucceeded: ['glue'],
  glueStopped: ['glue'],
  glueRunningStatus: ['glue'],
  dmsTaskFailed: ['dms'],
  dmsTaskStarted: ['dms'],
  dmsTaskStoppedPlanned: ['dms'],
  sfnFailed: ['stepFunctions'],
  sfnTimedOut: ['stepFunctions'],
  sfnAborted: ['stepFunctions'],
  sfnSucceeded: ['stepFunctions'],
  sfnRunning: ['stepFunctions'],
  s3ObjectCreated: ['s3'],
};

const failurePatterns: Record<FailureRule, events.EventPattern> = {
  glue: FAILURE_PATTERNS.glue(JOB_NAME),
  dmsTask: FAILURE_PATTERNS.dmsTask(TASK_ARN),
  stepFunctions: FAILURE_PATTERNS.stepFunctions(STATE_MACHINE_ARN),
  dataSync: FAILURE_PATTERNS.dataSync(DATASYNC_TASK_ARN),
};
const auditPatterns: Record<AuditRule, events.EventPattern> = {
  s3: AUDIT_PATTERNS.s3(BUCKET),
  glue: AUDIT_PATTERNS.glue(JOB_NAME),
  dms: AUDIT_PATTERNS.dms(TASK_ARN),
  stepFunctions: AUDIT_PATTERNS.stepFunctions(STATE_MACHINE_ARN),
};

const fired = (patterns: Record<string, object>, event: Event) =>
  Object.entries(patterns)
    .filter(([, p]) => matchesPattern(p, event))
    .map(([name]) => name)
    .sort();

describe('failure patterns (FAILURE_PATTERNS) against documented sample events', () => {
  test.each(Object.keys(EVENTS))('%s fires exactly the expected failure rules', (name) => {
    const event = EVENTS[name] as Event;
    expect(fired(failurePatterns, event)).toEqual([...(FAILURES_FIRED[name] ?? [])].sort());
  });

  test('a DataSync task ARN left empty by a failed activation matches no execution at all', () => {
    const pattern = FAILURE_PATTERNS.dataSync('');
    for (const event of [EVENTS.dataSyncError, EVENTS.dataSyncErrorOtherTask]) {
      expect(matchesPattern(pattern, event as Event)).toBe(false);
    }
  });
});

describe('audit patterns (AUDIT_PATTERNS) against documented sample events', () => {
  test.each(Object.keys(EVENTS))('%s reaches exactly the expected audit rules', (name) => {
    const event = EVENTS[name] as Event;
    expect(fired(auditPatterns, event)).toEqual([...(AUDITS_FIRED[name] ?? [])].sort());
  });

  test('an S3 event for another bucket is not audited', () => {
    const other = loadEvent<S3Event>('s3-object-created');
    other.detail.bucket.name = 'someone-elses-bucket';
    expect(matchesPattern(auditPatterns.s3, other)).toBe(false);
  });
});

// ---- the synthesized MonitoringStack ----------------------------------------------------------------

function synthMonitoring(): Template {
  const app = new App();
  const env = { account: ACCOUNT, region: REGION };
  const config = loadEnvironmentConfig('dev', () => undefined, {});
  const deps = new Stack(app, 'Deps', { env });
  const remediation = new lambda.Function(deps, 'Remediation', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => undefined;'),
  });
  const remediationDlq = new sqs.Queue(deps, 'RemediationDlq');
  const alertsTopic = new sns.Topic(deps, 'AlertsTopic');
  // The failure rules are the Remediation hop's (LambdaStack, test/constructs/remediation.test.ts); here they
  // are only counted.
  const failureRules = Object.fromEntries(
    Object.entries(failurePatterns).map(([name, eventPattern]) => [
      name,
      new events.Rule(deps, `${name}FailureRule`, { eventPattern }),
    ]),
  ) as FailureRules;
  // The stage's audit target is LoggingStack's Firehose stream; a literal target keeps this app acyclic
  // (a queue target in Deps would put a policy naming Monitoring's rules into Deps).
  const auditTarget: events.IRuleTarget = {
    bind: () => ({ arn: `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/audit-events` }),
  };
  const monitoring = new MonitoringStack(app, 'Monitoring', {
    env,
    config,
    dataBucket: s3.Bucket.fromBucketName(deps, 'DataBucket', BUCKET),
    job: glue.Job.fromJobAttributes(deps, 'Job', { jobName: JOB_NAME }),
    stateMachine: sfn.StateMachine.fromStateMachineArn(deps, 'StateMachine', STATE_MACHINE_ARN),
    replicationTask: {
      taskArn: TASK_ARN,
      taskResourceId: TASK_RESOURCE_ID,
      generation: 'dms-gen-1',
    },
    replicationInstanceIdentifier: 'migration-dev-instance',
    cluster: rds.DatabaseCluster.fromDatabaseClusterAttributes(deps, 'Cluster', {
      clusterIdentifier: 'migration-dev-aurora',
    }),
    domain: opensearch.Domain.fromDomainAttributes(deps, 'Domain', {
      domainArn: `arn:aws:es:${REGION}:${ACCOUNT}:domain/audit`,
      domainEndpoint: `https://search-audit-abc123.${REGION}.es.amazonaws.com`,
    }),
    failureRules,
    eventsDeadLetterQueue: new sqs.Queue(deps, 'EventsDeadLetterQueue'),
    functions: [{ name: 'Remediation', fn: remediation }],
    deadLetterQueues: [{ name: 'RemediationDlq', queue: remediationDlq }],
    triggerQueue: { queue: new sqs.Queue(deps, 'ObjectEventsQueue'), oldestMessageAlarmSeconds: 6720 },
    alertsTopic,
    auditTarget,
    auditDeadLetterQueue: (scope) => new sqs.Queue(scope, 'AuditEventTargetDlq'),
  });
  return Template.fromStack(monitoring);
}

/** Logical-id prefix of each audit rule in MonitoringStack. */
const AUDIT_RULE_IDS: Record<AuditRule, string> = {
  s3: 'AuditS3Rule',
  glue: 'AuditGlueRule',
  dms: 'AuditDmsRule',
  stepFunctions: 'AuditStepFunctionsRule',
};

function ruleByIdPrefix(template: Template, prefix: string): RuleProperties {
  const matches = Object.entries(template.findResources('AWS::Events::Rule')).filter(([id]) =>
    new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id),
  );
  if (matches.length !== 1) throw new Error(`expected one AWS::Events::Rule ${prefix}, found ${matches.length}`);
  return (matches[0] as [string, { Properties: RuleProperties }])[1].Properties;
}

describe('synthesized MonitoringStack', () => {
  const template = synthMonitoring();
  const synthesizedAudit = Object.fromEntries(
    Object.entries(AUDIT_RULE_IDS).map(([rule, id]) => [rule, ruleByIdPrefix(template, id).EventPattern]),
  ) as Record<AuditRule, object>;

  test.each(Object.keys(AUDIT_RULE_IDS) as AuditRule[])('audit rule %s synthesizes the tested pattern', (rule) => {
    expect(synthesizedAudit[rule]).toEqual(normalisePattern(auditPatterns[rule]));
  });

  test.each(Object.keys(EVENTS))('%s: the synthesized audit rules fire as the patterns do', (name) => {
    const event = EVENTS[name] as Event;
    expect(fired(synthesizedAudit, event)).toEqual([...(AUDITS_FIRED[name] ?? [])].sort());
  });

  test('the failure rules of the Remediation hop are counted, not created here', () => {
    const ruleIds = Object.keys(template.findResources('AWS::Events::Rule'));
    expect(ruleIds.map((id) => id.slice(0, -8)).sort()).toEqual(Object.values(AUDIT_RULE_IDS).sort());
    const matched = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => (a as { Properties: AlarmProperties }).Properties.MetricName === 'MatchedEvents',
    );
    expect(matched.length).toBeGreaterThan(0);
  });

  test('the CDC latency alarm treats missing data as breaching: a stopped task emits no latency at all', () => {
    const cdc = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => (a as { Properties: AlarmProperties }).Properties.MetricName === 'CDCLatencyTarget',
    ) as { Properties: AlarmProperties }[];
    expect(cdc).toHaveLength(1);
    expect(cdc[0]?.Properties.TreatMissingData).toBe('breaching');
    // DMS task metrics are published under the task's resource id, not its name.
    expect(cdc[0]?.Properties.Dimensions).toEqual(
      expect.arrayContaining([{ Name: 'ReplicationTaskIdentifier', Value: TASK_RESOURCE_ID }]),
    );
  });

  test('every alarm notifies the alerts topic', () => {
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    const silent = alarms
      .filter(([, a]) => {
        const actions = (a as { Properties: AlarmProperties }).Properties.AlarmActions as unknown[] | undefined;
        return !actions || actions.length === 0 || !JSON.stringify(actions).includes('AlertsTopic');
      })
      .map(([id]) => id);
    expect(silent).toEqual([]);
  });

  test('alarm and dashboard names start with the stack name: a sandbox stage next to dev takes none of its names', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a as { Properties: { AlarmName: string } }).Properties.AlarmName,
    );
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !n.startsWith('Monitoring-'))).toEqual([]);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Monitoring' });
  });
});
