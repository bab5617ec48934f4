import type { SNSEvent } from 'aws-lambda';
import { classify } from '../../lambda/remediation/classify';
import { classifyDmsFailure, type DmsFailureKind } from '../../lambda/remediation/dms-failure';
import { MalformedEventError, parseRemediationEvent } from '../../lambda/shared/events';
import { loadEvent } from '../fixtures/events';

const classifyFixture = (name: string) => classify(parseRemediationEvent(loadEvent(name)));

function validationSns(status: 'PASSED' | 'FAILED', attribute: string = status): SNSEvent {
  const event = loadEvent<SNSEvent>('sns-event');
  const sns = event.Records[0]!.Sns;
  sns.Message = JSON.stringify({
    schemaVersion: 1,
    status,
    dataset: 'sales',
    correlationId: 'cid-1',
    bucket: 'data-bucket',
    key: 'incoming/sales/a.csv',
    versionId: 'v1',
    reportKey: 'reports/sales/cid-1.json',
    destinationKey: status === 'FAILED' ? 'quarantine/sales/a.csv' : 'validated/sales/a.csv',
    rowCount: 10,
    errorRows: status === 'FAILED' ? 10 : 0,
    reasons: status === 'FAILED' ? ['header mismatch: expected id,amount'] : [],
  });
  sns.MessageAttributes = { status: { Type: 'String', Value: attribute } };
  return event;
}

describe('remediation classification of documented sample events', () => {
  test.each([
    // [fixture, expected action type]
    ['glue-job-state-change-failed', 'retry-glue-job'],
    ['glue-job-state-change-timeout', 'retry-glue-job'],
    ['glue-job-state-change-succeeded', 'ignore'],
    ['glue-job-state-change-stopped', 'ignore'],
    ['glue-job-run-status-running', 'ignore'],
    ['dms-replication-task-failed', 'recover-dms'],
    ['dms-replication-task-stopped', 'ignore'],
    ['dms-replication-task-state-change', 'ignore'],
    ['dms-replication-failed-serverless', 'recover-dms'],
    ['sfn-execution-failed', 'retry-execution'],
    ['sfn-execution-timed-out', 'retry-execution'],
    ['sfn-execution-aborted', 'alert-aborted-execution'],
    ['sfn-execution-succeeded', 'ignore'],
    ['s3-object-created', 'ignore'],
  ])('%s → %s', (fixture, expected) => {
    const actions = classifyFixture(fixture);
    expect(actions).toHaveLength(1);
    expect(actions[0]!.type).toBe(expected);
  });

  test('a DMS planned stop (REPLICATION_TASK_STOPPED, Stop Reason NORMAL) is ignored', () => {
    expect(classifyFixture('dms-replication-task-stopped')).toEqual([
      { type: 'ignore', reason: 'DMS task event REPLICATION_TASK_STOPPED is not a failure' },
    ]);
  });

  test('a DMS Serverless event that is not REPLICATION_FAILED is ignored', () => {
    const event = loadEvent<{ detail: { eventType: string } }>('dms-replication-failed-serverless');
    event.detail.eventType = 'REPLICATION_STOPPED';
    expect(classify(parseRemediationEvent(event))[0]!.type).toBe('ignore');
  });

  test('the Glue failure carries job, run and the event id used to spot redeliveries', () => {
    expect(classifyFixture('glue-job-state-change-failed')[0]).toEqual({
      type: 'retry-glue-job',
      dedupeId: 'event#abcdef01-1234-5678-9abc-def012345678',
      jobName: 'MyJob',
      jobRunId: 'jr_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      state: 'FAILED',
      message: expect.stringContaining('failed to execute with exception') as unknown as string,
    });
  });

  test('the DMS task is taken from resources, where DMS puts it', () => {
    expect(classifyFixture('dms-replication-task-failed')[0]).toMatchObject({
      type: 'recover-dms',
      target: 'task',
      arn: 'arn:aws:dms:us-east-1:012345678901:task:AAAABBBB0CCCCDDDDEEEEE1FFFF2GGG3FFFFFF3',
    });
    expect(classifyFixture('dms-replication-failed-serverless')[0]).toMatchObject({
      type: 'recover-dms',
      target: 'replication-config',
      arn: 'arn:aws:dms:us-west-2:123456789012:replication-config:EXAMPLECONFIGID',
    });
  });

  test('validation results: FAILED alerts, PASSED is ignored whichever field says so', () => {
    expect(classify(parseRemediationEvent(validationSns('FAILED')))[0]).toMatchObject({
      type: 'alert-validation-failure',
      dedupeId: 'sns#95df01b4-ee98-5cb9-9903-4c221d41eb5e',
      result: { correlationId: 'cid-1', reasons: ['header mismatch: expected id,amount'] },
    });
    expect(classify(parseRemediationEvent(validationSns('PASSED')))[0]!.type).toBe('ignore');
    expect(classify(parseRemediationEvent(validationSns('PASSED', 'FAILED')))[0]!.type).toBe('ignore');
  });

  test('an EventBridge event from another service is ignored, not an error', () => {
    const event = {
      ...loadEvent('sfn-execution-failed'),
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
    };
    expect(classify(parseRemediationEvent(event))).toEqual([
      { type: 'ignore', reason: 'no remediation for aws.ec2 "EC2 Instance State-change Notification" events' },
    ]);
  });
});

describe('remediation rejects malformed events with the field named', () => {
  test.each<[string, (e: Record<string, unknown> & { detail: Record<string, unknown> }) => unknown, string]>([
    ['no detail', (e) => ({ ...e, detail: undefined }), 'detail is missing'],
    [
      'a Glue event without jobRunId',
      (e) => ({ ...e, detail: { ...e.detail, jobRunId: undefined } }),
      'detail.jobRunId is missing: expected a Glue Job State Change event from EventBridge',
    ],
    [
      'a Glue event whose state is a number',
      (e) => ({ ...e, detail: { ...e.detail, state: 3 } }),
      'detail.state is a number, not a string',
    ],
  ])('%s', (_name, mutate, message) => {
    const event = mutate(
      loadEvent<Record<string, unknown> & { detail: Record<string, unknown> }>('glue-job-state-change-failed'),
    );
    expect(() => parseRemediationEvent(event)).toThrow(MalformedEventError);
    expect(() => parseRemediationEvent(event)).toThrow(message);
  });

  test('a DMS event without a task ARN in resources', () => {
    const event = { ...loadEvent('dms-replication-task-failed'), resources: [] };
    expect(() => parseRemediationEvent(event)).toThrow(
      'resources holds no DMS task ARN (got []): expected a DMS Replication Task State Change event',
    );
  });

  test('a Step Functions event without executionArn', () => {
    const event = loadEvent<{ detail: Record<string, unknown> }>('sfn-execution-failed');
    delete event.detail.executionArn;
    expect(() => parseRemediationEvent(event)).toThrow(
      'detail.executionArn is missing: expected a Step Functions Execution Status Change event',
    );
  });

  test('something that is neither EventBridge nor SNS', () => {
    expect(() => parseRemediationEvent({ hello: 'world' })).toThrow('event has neither Records nor detail-type/source');
    expect(() => parseRemediationEvent('text')).toThrow('event is a string, not an object');
  });

  test('an SNS validation message that is not JSON', () => {
    const event = validationSns('FAILED');
    event.Records[0]!.Sns.Message = '<html>';
    expect(() => classify(parseRemediationEvent(event))).toThrow(/Sns\.Message of message .* is not JSON/);
  });
});

describe('DMS failure messages', () => {
  test.each<[string, DmsFailureKind]>([
    ['Could not find first log file name in binary log index file', 'checkpoint-lost'],
    ['Got fatal error 1236 from master when reading data from binary log', 'checkpoint-lost'],
    ["Could not find the position 'mysql-bin-changelog.157832:1975' in the binary log", 'checkpoint-lost'],
    ['The binary log mysql-bin-changelog.000024 has been purged on the source', 'checkpoint-lost'],
    ['requested WAL segment 000000010000000000000001 has already been removed', 'checkpoint-lost'],
    ['replication slot "dms_slot" does not exist', 'checkpoint-lost'],
    ['Recovery checkpoint is invalid for the source after switch-over', 'checkpoint-lost'],
    ["Access denied for user 'dms'@'10.0.0.1' (using password: YES)", 'permanent'],
    ['Last Error  Endpoint initialization failed. Stop Reason FATAL_ERROR Error Level FATAL', 'permanent'],
    ['Network error has occurred. Stop Reason RECOVERABLE_ERROR', 'transient'],
    ['Lost connection to MySQL server during query', 'transient'],
    ['Failed to connect to database. Connection timed out', 'transient'],
    ['Rate exceeded', 'transient'],
    ['Replication out of memory. Stop Reason FATAL_ERROR Error Level FATAL', 'unknown'],
  ])('%s → %s', (message, kind) => {
    expect(classifyDmsFailure(message)).toBe(kind);
  });
});
