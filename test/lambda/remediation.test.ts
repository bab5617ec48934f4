import 'aws-sdk-client-mock-jest';
import {
  DatabaseMigrationServiceClient,
  DescribeReplicationsCommand,
  DescribeReplicationTasksCommand,
  InvalidResourceStateFault,
  ResourceNotFoundFault,
  StartReplicationCommand,
  StartReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import {
  GetJobRunCommand,
  GetJobRunsCommand,
  GlueClient,
  InternalServiceException,
  StartJobRunCommand,
} from '@aws-sdk/client-glue';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  NotFound,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionNotRedrivable,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { InternalErrorException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent, SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/remediation';
import { parseRestartName, restartName } from '../../lambda/remediation/execution';
import { renderAlert } from '../../lambda/shared/alerts';
import { forgetCurrentTaskArn } from '../../lambda/shared/current-task-arn';
import { MalformedEventError } from '../../lambda/shared/events';
import { captureStdout, lambdaContext, loadEvent } from '../fixtures/events';
import { FakeStateTable } from './remediation-fake-state';

const glue = mockClient(GlueClient);
const dms = mockClient(DatabaseMigrationServiceClient);
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const sns = mockClient(SNSClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const ssm = mockClient(SSMClient);

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:012345678912:stateMachine:state-machine';

/** The stage's own resources, as the documented sample events name them. */
const TASK_ARN = 'arn:aws:dms:us-east-1:012345678901:task:AAAABBBB0CCCCDDDDEEEEE1FFFF2GGG3FFFFFF3';
const REPLICATION_CONFIG_ARN = 'arn:aws:dms:us-west-2:123456789012:replication-config:EXAMPLECONFIGID';
const TASK_ARN_PARAMETER = 'CFN-DmsReplicationTaskArnParameter-abc123';

const ENV = {
  ALERTS_TOPIC_ARN: 'arn:aws:sns:us-west-2:123456789012:migration-alerts',
  STATE_TABLE_NAME: 'pipeline-state',
  MAX_ATTEMPTS: '3',
  AWS_REGION: 'us-west-2',
  STATE_MACHINE_ARN,
  GLUE_JOB_NAME: 'MyJob',
  DATA_BUCKET_NAME: 'data-bucket',
  REPLICATION_TASK_ARN: TASK_ARN,
  REPLICATION_TASK_ARN_PARAMETER: TASK_ARN_PARAMETER,
  REPLICATION_CONFIG_ARN,
  GLUE_JOB_MAX_RETRIES: '0',
  ALLOW_RELOAD_TARGET: 'false',
  QUARANTINE_PREFIX: 'quarantine/',
  INCOMING_PREFIX: 'incoming/',
  GLUE_LOG_GROUP: '/aws-glue/jobs/error',
};

type AnyEvent = EventBridgeEvent<string, unknown> | SNSEvent;
type Json = Record<string, unknown>;
/** The JSON part of a published alert (see lambda/shared/alerts.ts). */
type AlertJson = Json & { type: string; links: Record<string, string> };

let state: FakeStateTable;
let stdout: ReturnType<typeof captureStdout>;
let eventCounter = 0;

/** A documented sample with a fresh event id (a new occurrence, not a redelivery). */
function sample(name: string, change: (event: Json & { detail: Json }) => void = () => undefined): AnyEvent {
  const event = loadEvent<Json & { id: string; detail: Json }>(name);
  event.id = `${event.id}-${++eventCounter}`;
  change(event);
  return event as unknown as AnyEvent;
}

const invoke = (event: AnyEvent) => handler(event, lambdaContext({ awsRequestId: `request-${eventCounter}` }));

function published(): Array<{ subject: string; message: string; json: AlertJson }> {
  return sns.commandCalls(PublishCommand).map((call) => {
    const { Subject, Message, TopicArn } = call.args[0].input;
    expect(TopicArn).toBe(ENV.ALERTS_TOPIC_ARN);
    const json = JSON.parse(Message!.slice(Message!.indexOf('--- JSON ---') + '--- JSON ---'.length)) as AlertJson;
    return { subject: Subject!, message: Message!, json };
  });
}

beforeEach(() => {
  for (const client of [glue, dms, sfn, s3, sns, dynamodb, ssm]) client.reset();
  forgetCurrentTaskArn();
  ssm.on(GetParameterCommand).resolves({ Parameter: { Name: TASK_ARN_PARAMETER, Value: TASK_ARN } });
  Object.assign(process.env, ENV);
  state = new FakeStateTable();
  state.install(dynamodb);
  sns.on(PublishCommand).resolves({ MessageId: 'alert-1' });
  glue.on(GetJobRunsCommand).resolves({ JobRuns: [] });
  glue.on(StartJobRunCommand).resolves({ JobRunId: 'jr_retry' });
  s3.on(HeadObjectCommand).resolves({ ContentLength: 1024, ContentType: 'text/csv' });
  s3.on(CopyObjectCommand).resolves({ VersionId: 'qv1' });
  stdout = captureStdout();
});

afterEach(() => {
  stdout.restore();
  for (const name of [...Object.keys(ENV), 'ALLOW_RELOAD_TARGET', 'STATE_MACHINE_LOG_GROUP', 'GLUE_JOB_MAX_RETRIES'])
    delete process.env[name];
  // Whatever happened, remediation never deletes data and never fresh-starts a replication that has run before.
  expect(s3).not.toHaveReceivedCommand(DeleteObjectCommand);
  for (const call of dms.commandCalls(StartReplicationTaskCommand)) {
    expect(call.args[0].input.StartReplicationTaskType).not.toBe('start-replication');
  }
  for (const call of dms.commandCalls(StartReplicationCommand)) {
    expect(call.args[0].input.StartReplicationType).not.toBe('start-replication');
  }
});

// -------------------------------------------------------------------------------------------------
// Glue
// -------------------------------------------------------------------------------------------------

const RUN_ARGUMENTS = {
  '--bucket': 'data-bucket',
  '--key': 'incoming/sales/2026-01-01.csv',
  '--version_id': 'v1',
  '--correlation_id': 'cid-1',
};

function glueRun(
  extra: Record<string, string> = {},
  errorMessage = 'An error occurred while calling o102.pyWriteDynamicFrame',
  run: { Attempt?: number } = {},
) {
  glue.on(GetJobRunCommand).resolves({
    JobRun: {
      Id: 'jr_failed',
      JobName: 'MyJob',
      JobRunState: 'FAILED',
      ErrorMessage: errorMessage,
      Arguments: { ...RUN_ARGUMENTS, ...extra },
      ...run,
    },
  });
}

describe('remediation: Glue job failed', () => {
  test('under the bound it re-runs the job with the same arguments and the attempt one higher', async () => {
    glueRun();
    const outcomes = await invoke(sample('glue-job-state-change-failed'));

    expect(outcomes).toEqual([{ result: 'retried', detail: { jobRunId: 'jr_retry', attempt: 1 } }]);
    expect(glue).toHaveReceivedCommandWith(GetJobRunCommand, {
      JobName: 'MyJob',
      RunId: 'jr_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    });
    expect(glue).toHaveReceivedCommandWith(StartJobRunCommand, {
      JobName: 'MyJob',
      Arguments: { ...RUN_ARGUMENTS, '--remediation_attempt': '1' },
    });
    expect(state.items.get('glue-attempts#cid-1')?.attempts).toEqual(1);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  test('a FAILED attempt that Glue will retry itself is left to Glue; only the last attempt counts', async () => {
    process.env.GLUE_JOB_MAX_RETRIES = '2';
    glueRun({}, 'boom', { Attempt: 1 });
    const early = await invoke(sample('glue-job-state-change-failed'));

    expect(early).toEqual([
      { result: 'ignored', detail: { reason: 'Glue will retry the run', glueAttempt: 1, glueJobMaxRetries: 2 } },
    ]);
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    expect(state.items.has('glue-attempts#cid-1')).toBe(false);

    glueRun({}, 'boom', { Attempt: 2 });
    const last = await invoke(sample('glue-job-state-change-failed'));
    expect(last[0]).toMatchObject({ result: 'retried', detail: { attempt: 1 } });
  });

  test('a TIMEOUT counts on any attempt: Glue does not restart a run that timed out', async () => {
    process.env.GLUE_JOB_MAX_RETRIES = '2';
    glueRun({}, 'timed out', { Attempt: 0 });
    const outcomes = await invoke(sample('glue-job-state-change-timeout'));
    expect(outcomes[0]).toMatchObject({ result: 'retried', detail: { attempt: 1 } });
  });

  test('two failures of one object racing for the same attempt start one re-run, not two', async () => {
    glueRun();
    // Another invocation advances the record between this one's read and its conditional write.
    state.beforeUpdate = (input) => {
      if (input.Key?.id !== 'glue-attempts#cid-1') return;
      state.beforeUpdate = () => undefined;
      state.seedAttempts('glue-attempts#cid-1', 1, Date.now(), 'remediation#event#someone-else');
    };
    const outcomes = await invoke(sample('glue-job-state-change-failed'));

    expect(outcomes).toEqual([
      { result: 'ignored', detail: { reason: 'attempt taken by another remediation', attempt: 1 } },
    ]);
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    expect(state.items.get('glue-attempts#cid-1')?.claimedBy).toEqual('remediation#event#someone-else');
  });

  test('a failed StartJobRun releases the claim, and the retry starts the attempt it had taken', async () => {
    glueRun();
    const event = sample('glue-job-state-change-failed') as EventBridgeEvent<string, unknown>;
    glue
      .on(StartJobRunCommand)
      .rejectsOnce(new InternalServiceException({ message: 'Internal failure', $metadata: {} }))
      .resolves({ JobRunId: 'jr_retry' });
    await expect(invoke(event)).rejects.toThrow('Internal failure');
    expect(state.items.has(`remediation#event#${event.id}`)).toBe(false);

    // Lambda's asynchronous retry of the same event, a minute later.
    const outcomes = await invoke(event);
    expect(outcomes).toEqual([{ result: 'retried', detail: { jobRunId: 'jr_retry', attempt: 1 } }]);
    expect(state.advances).toEqual([{ id: 'glue-attempts#cid-1', from: 0, to: 1 }]);
    expect(glue).toHaveReceivedCommand(GetJobRunsCommand);
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 2);
    expect(state.items.get(`remediation#event#${event.id}`)?.claimState).toEqual('COMPLETED');
  });

  test('a timed-out run is retried the same way', async () => {
    glueRun({ '--remediation_attempt': '2' });
    const outcomes = await invoke(sample('glue-job-state-change-timeout'));
    expect(outcomes[0]).toMatchObject({ result: 'retried', detail: { attempt: 3 } });
  });

  test('the attempt count is the higher of the run arguments and the state table', async () => {
    glueRun(); // a hand-started run with the original arguments (attempt 0)
    state.seedAttempts('glue-attempts#cid-1', 3);
    const outcomes = await invoke(sample('glue-job-state-change-failed'));

    expect(outcomes[0]!.result).toBe('quarantined');
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
  });

  test('at the bound it copies the exact failed version to quarantine/ and sends one alert with context', async () => {
    glueRun({ '--remediation_attempt': '3' }, 'Command failed with exit code 1');
    const outcomes = await invoke(sample('glue-job-state-change-failed'));

    expect(outcomes).toEqual([
      { result: 'quarantined', detail: { quarantineKey: 'quarantine/sales/2026-01-01.csv', quarantined: true } },
    ]);
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: 'data-bucket',
      Key: 'quarantine/sales/2026-01-01.csv',
      CopySource: 'data-bucket/incoming%2Fsales%2F2026-01-01.csv?versionId=v1',
    });
    const [alert, ...others] = published();
    expect(others).toHaveLength(0);
    expect(alert!.subject.length).toBeLessThan(100);
    expect(alert!.json).toMatchObject({
      type: 'glue-job-retries-exhausted',
      correlationId: 'cid-1',
      attempts: 3,
      maxAttempts: 3,
      lastError: 'Command failed with exit code 1',
      resource: {
        jobName: 'MyJob',
        jobRunId: expect.stringMatching(/^jr_/),
        bucket: 'data-bucket',
        key: RUN_ARGUMENTS['--key'],
        versionId: 'v1',
      },
    });
    expect(alert!.json.links.logs).toBe(
      'https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#logsV2:log-groups/log-group/$252Faws-glue$252Fjobs$252Ferror/log-events/jr_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    expect(alert!.json.links.quarantinedObject).toBe(
      'https://s3.console.aws.amazon.com/s3/object/data-bucket?region=us-west-2&prefix=quarantine%2Fsales%2F2026-01-01.csv',
    );
    expect(alert!.message).toContain('correlation id: cid-1');
    expect(alert!.message).toContain('attempts made: 3 (limit 3)');
  });

  test('objects over 5 GiB are quarantined with a multipart copy', async () => {
    glueRun({ '--remediation_attempt': '3' });
    const size = 6 * 1024 ** 3;
    s3.on(HeadObjectCommand).resolves({ ContentLength: size, ContentType: 'text/csv' });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(UploadPartCopyCommand).callsFake((input: { PartNumber: number }) => ({
      CopyPartResult: { ETag: `"etag-${input.PartNumber}"` },
    }));
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'qv2' });
    await invoke(sample('glue-job-state-change-failed'));

    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
    const parts = s3.commandCalls(UploadPartCopyCommand).map((call) => call.args[0].input);
    expect(parts).toHaveLength(12);
    expect(parts[0]).toMatchObject({ PartNumber: 1, CopySourceRange: `bytes=0-${512 * 1024 ** 2 - 1}` });
    expect(parts[11]).toMatchObject({ PartNumber: 12, CopySourceRange: `bytes=${11 * 512 * 1024 ** 2}-${size - 1}` });
    const complete = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
    expect(complete.MultipartUpload!.Parts!.map((p) => p.PartNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  test('an object that is gone is reported as not quarantined instead of failing the remediation', async () => {
    glueRun({ '--remediation_attempt': '3' });
    s3.on(HeadObjectCommand).rejects(new NotFound({ message: 'Not Found', $metadata: {} }));
    const outcomes = await invoke(sample('glue-job-state-change-failed'));

    expect(outcomes[0]).toMatchObject({ result: 'quarantined', detail: { quarantined: false } });
    expect(published()[0]!.subject).toContain('NOT quarantined');
  });

  test('a run without the pipeline arguments is reported, not retried', async () => {
    glue.on(GetJobRunCommand).resolves({ JobRun: { Id: 'jr_manual', Arguments: { '--something': 'else' } } });
    const outcomes = await invoke(sample('glue-job-state-change-failed'));

    expect(outcomes[0]!.result).toBe('alerted');
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    expect(published()[0]!.json.type).toBe('glue-job-failed-unidentified');
  });

  test('a redelivered event is skipped: one re-run, not two', async () => {
    glueRun();
    const event = sample('glue-job-state-change-failed');
    await invoke(event);
    const second = await invoke(event);

    expect(second).toEqual([{ result: 'duplicate' }]);
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 1);
  });

  test('taking over from an invocation that died after starting the re-run does not start another', async () => {
    glueRun();
    const event = sample('glue-job-state-change-failed') as EventBridgeEvent<string, unknown>;
    // The dead invocation took attempt 1 for this event, then started the run and died before completing.
    state.seedAttempts('glue-attempts#cid-1', 1, Date.now() - 110_000, `remediation#event#${event.id}`);
    state.items.set(`remediation#event#${event.id}`, {
      id: `remediation#event#${event.id}`,
      claimState: 'IN_PROGRESS',
      leaseOwner: 'dead-request',
      leasedAt: Date.now() - 120_000,
      leaseExpiresAt: Date.now() - 60_000,
    });
    glue.on(GetJobRunsCommand).resolves({
      JobRuns: [
        {
          Id: 'jr_already',
          StartedOn: new Date(Date.now() - 100_000),
          Arguments: { ...RUN_ARGUMENTS, '--remediation_attempt': '1' },
        },
      ],
    });
    const outcomes = await invoke(event);

    expect(outcomes[0]).toMatchObject({ result: 'retried', detail: { jobRunId: 'jr_already', attempt: 1 } });
    expect(glue).not.toHaveReceivedCommand(StartJobRunCommand);
    expect(state.advances).toEqual([]);
  });

  test('taking over from an invocation that died before taking an attempt takes it and starts the run', async () => {
    glueRun();
    const event = sample('glue-job-state-change-failed') as EventBridgeEvent<string, unknown>;
    state.items.set(`remediation#event#${event.id}`, {
      id: `remediation#event#${event.id}`,
      claimState: 'IN_PROGRESS',
      leaseOwner: 'dead-request',
      leasedAt: Date.now() - 120_000,
      leaseExpiresAt: Date.now() - 60_000,
    });
    const outcomes = await invoke(event);

    expect(outcomes[0]).toMatchObject({ result: 'retried', detail: { jobRunId: 'jr_retry', attempt: 1 } });
    expect(glue).toHaveReceivedCommandTimes(StartJobRunCommand, 1);
  });

  test('an event another invocation is handling right now is retried later', async () => {
    const event = sample('glue-job-state-change-failed') as EventBridgeEvent<string, unknown>;
    state.items.set(`remediation#event#${event.id}`, {
      id: `remediation#event#${event.id}`,
      claimState: 'IN_PROGRESS',
      leaseOwner: 'live-request',
      leaseExpiresAt: Date.now() + 60_000,
    });
    await expect(invoke(event)).rejects.toThrow('is being remediated by live-request; retry later');
    expect(glue).not.toHaveReceivedAnyCommand();
  });
});

// -------------------------------------------------------------------------------------------------
// DMS
// -------------------------------------------------------------------------------------------------

function dmsTask(status: string, lastFailureMessage?: string, stopReason = 'Stop Reason FATAL_ERROR') {
  dms.on(DescribeReplicationTasksCommand).resolves({
    ReplicationTasks: [
      { ReplicationTaskArn: TASK_ARN, Status: status, StopReason: stopReason, LastFailureMessage: lastFailureMessage },
    ],
  });
}

describe('remediation: a failed batch run (docs/bursts.md)', () => {
  const OBJECTS = [
    { bucket: 'data-bucket', key: 'incoming/sales/a.csv', versionId: 'va', correlationId: 'cid-a' },
    { bucket: 'data-bucket', key: 'incoming/sales/b.csv', versionId: null, correlationId: 'cid-b' },
  ];
  const BATCH_ARGUMENTS = { '--objects': JSON.stringify(OBJECTS), '--batch_id': 'batch-7' };
  const batchRun = (extra: Record<string, string> = {}) =>
    glue.on(GetJobRunCommand).resolves({
      JobRun: {
        Id: 'jr_failed',
        JobName: 'MyJob',
        JobRunState: 'FAILED',
        ErrorMessage: 'boom',
        Arguments: { ...BATCH_ARGUMENTS, ...extra },
      },
    });

  test('is re-run with the same --objects, its attempts counted per batch, not sent to a person as unidentified', async () => {
    batchRun();
    const outcomes = await invoke(sample('glue-job-state-change-failed'));
    expect(outcomes).toEqual([{ result: 'retried', detail: { jobRunId: 'jr_retry', attempt: 1 } }]);
    expect(glue).toHaveReceivedCommandWith(StartJobRunCommand, {
      JobName: 'MyJob',
      Arguments: { ...BATCH_ARGUMENTS, '--remediation_attempt': '1' },
    });
    expect(state.items.get('glue-attempts#batch-batch-7')?.attempts).toEqual(1);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  test('at the bound every object of the batch is quarantined and ONE alert names the batch', async () => {
    batchRun({ '--remediation_attempt': '3' });
    const outcomes = await invoke(sample('glue-job-state-change-failed'));
    expect(outcomes).toEqual([{ result: 'quarantined', detail: { batchId: 'batch-7', quarantined: 2 } }]);
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Key: 'quarantine/sales/a.csv',
      CopySource: 'data-bucket/incoming%2Fsales%2Fa.csv?versionId=va',
    });
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, { Key: 'quarantine/sales/b.csv' });
    const alerts = published();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.json).toMatchObject({
      type: 'glue-batch-retries-exhausted',
      resource: { batchId: 'batch-7', jobName: 'MyJob' },
      attempts: 3,
      details: { objects: 2, correlationIds: ['cid-a', 'cid-b'] },
    });
  });
});

describe('remediation: DMS task failed', () => {
  beforeEach(() => {
    dms.on(StartReplicationTaskCommand).resolves({});
    dms.on(StartReplicationCommand).resolves({});
  });

  test('a transient failure is resumed from the checkpoint', async () => {
    dmsTask('failed', 'Network error has occurred');
    const outcomes = await invoke(sample('dms-replication-task-failed'));

    expect(outcomes).toEqual([{ result: 'resumed', detail: { startType: 'resume-processing', attempt: 1 } }]);
    expect(dms).toHaveReceivedCommandWith(DescribeReplicationTasksCommand, {
      Filters: [{ Name: 'replication-task-arn', Values: [TASK_ARN] }],
    });
    expect(dms).toHaveReceivedCommandWith(StartReplicationTaskCommand, {
      ReplicationTaskArn: TASK_ARN,
      StartReplicationTaskType: 'resume-processing',
    });
  });

  test('checkpoint gone and reload allowed: reload-target', async () => {
    process.env.ALLOW_RELOAD_TARGET = 'true';
    dmsTask('failed', 'Could not find first log file name in binary log index file');
    const outcomes = await invoke(sample('dms-replication-task-failed'));

    expect(outcomes[0]!.result).toBe('reloaded');
    expect(dms).toHaveReceivedCommandWith(StartReplicationTaskCommand, { StartReplicationTaskType: 'reload-target' });
  });

  test('checkpoint gone and reload not allowed: alert once as unrecoverable, never resume', async () => {
    dmsTask('failed', 'Got fatal error 1236 from master when reading data from binary log');
    const first = await invoke(sample('dms-replication-task-failed'));
    const second = await invoke(sample('dms-replication-task-failed'));

    expect(first[0]!.result).toBe('alerted');
    expect(second[0]!.result).toBe('already-alerted');
    expect(dms).not.toHaveReceivedCommand(StartReplicationTaskCommand);
    const alerts = published();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.json).toMatchObject({
      type: 'dms-unrecoverable-checkpoint-lost',
      lastError: 'Got fatal error 1236 from master when reading data from binary log',
      resource: { replicationTaskArn: TASK_ARN },
      links: { console: 'https://console.aws.amazon.com/dms/v2/home?region=us-east-1#taskDetails/taskName' },
    });
  });

  test('an alert that could not be sent is not taken for sent: the retry sends it', async () => {
    dmsTask('failed', 'Got fatal error 1236 from master when reading data from binary log');
    sns
      .on(PublishCommand)
      .rejectsOnce(new InternalErrorException({ message: 'SNS is down', $metadata: {} }))
      .resolves({ MessageId: 'alert-2' });
    const event = sample('dms-replication-task-failed');
    await expect(invoke(event)).rejects.toThrow('SNS is down');
    const retried = await invoke(event);

    expect(retried).toEqual([{ result: 'alerted' }]);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
  });

  test('a different failure message on the same task is a new alert', async () => {
    dmsTask('failed', "Access denied for user 'dms'");
    await invoke(sample('dms-replication-task-failed'));
    dmsTask('failed', 'Could not find the position in the binary log');
    await invoke(sample('dms-replication-task-failed'));
    expect(published().map((a) => a.json.type)).toEqual([
      'dms-unrecoverable-configuration',
      'dms-unrecoverable-checkpoint-lost',
    ]);
  });

  test('resumes are bounded: after MAX_ATTEMPTS in a day one alert, no further starts', async () => {
    dmsTask('failed', 'Lost connection to MySQL server during query');
    const results = [];
    for (let i = 0; i < 5; i++) results.push((await invoke(sample('dms-replication-task-failed')))[0]!.result);

    expect(results).toEqual(['resumed', 'resumed', 'resumed', 'alerted', 'already-alerted']);
    expect(dms).toHaveReceivedCommandTimes(StartReplicationTaskCommand, 3);
    expect(published()[0]!.json).toMatchObject({ type: 'dms-retries-exhausted', attempts: 3, maxAttempts: 3 });
  });

  test('the attempt window restarts after a day', async () => {
    dmsTask('failed', 'Network error has occurred');
    state.seedAttempts(`dms-attempts#${TASK_ARN}`, 3, Date.now() - 25 * 3600 * 1000);
    const outcomes = await invoke(sample('dms-replication-task-failed'));
    expect(outcomes[0]).toMatchObject({ result: 'resumed', detail: { attempt: 1 } });
  });

  test('a task that is running again (or was stopped normally since) is left alone', async () => {
    dmsTask('running', undefined, '');
    expect((await invoke(sample('dms-replication-task-failed')))[0]!.result).toBe('ignored');
    dmsTask('stopped', undefined, 'Stop Reason NORMAL');
    expect((await invoke(sample('dms-replication-task-failed')))[0]!.result).toBe('ignored');
    expect(dms).not.toHaveReceivedCommand(StartReplicationTaskCommand);
  });

  test('a start that races another start is not an error', async () => {
    dmsTask('failed', 'Network error has occurred');
    dms
      .on(StartReplicationTaskCommand)
      .rejects(new InvalidResourceStateFault({ message: 'Task is already running', $metadata: {} }));
    expect((await invoke(sample('dms-replication-task-failed')))[0]).toMatchObject({ result: 'ignored' });
  });

  test.each([
    ['task', 'dms-replication-task-failed', DescribeReplicationTasksCommand],
    ['replication-config', 'dms-replication-failed-serverless', DescribeReplicationsCommand],
  ] as const)(
    'a %s that DMS no longer knows (ResourceNotFoundFault) is alerted as not found, nothing started',
    async (target, fixture, command) => {
      dms
        .on(command as typeof DescribeReplicationTasksCommand)
        .rejects(new ResourceNotFoundFault({ message: 'No Resources Found', $metadata: {} }));
      const outcomes = await invoke(sample(fixture));

      expect(outcomes).toEqual([{ result: 'alerted', detail: { reason: 'not found' } }]);
      expect(dms).not.toHaveReceivedCommand(StartReplicationTaskCommand);
      expect(dms).not.toHaveReceivedCommand(StartReplicationCommand);
      expect(published()[0]!.json).toMatchObject({
        type: 'dms-resource-not-found',
        title: `DMS ${target} failed and can no longer be found`,
      });
    },
  );

  test('a planned stop is ignored without calling DMS or writing state', async () => {
    const outcomes = await invoke(sample('dms-replication-task-stopped'));

    expect(outcomes[0]!.result).toBe('ignored');
    expect(dms).not.toHaveReceivedAnyCommand();
    expect(dynamodb).not.toHaveReceivedAnyCommand();
    expect(sns).not.toHaveReceivedAnyCommand();
  });

  test('DMS Serverless REPLICATION_FAILED resumes the replication through the serverless API', async () => {
    dms.on(DescribeReplicationsCommand).resolves({
      Replications: [
        { Status: 'failed', StopReason: 'FATAL_ERROR', FailureMessages: ['Lost connection to MySQL server'] },
      ],
    });
    const outcomes = await invoke(sample('dms-replication-failed-serverless'));

    expect(outcomes[0]!.result).toBe('resumed');
    expect(dms).toHaveReceivedCommandWith(DescribeReplicationsCommand, {
      Filters: [
        {
          Name: 'replication-config-arn',
          Values: ['arn:aws:dms:us-west-2:123456789012:replication-config:EXAMPLECONFIGID'],
        },
      ],
    });
    expect(dms).toHaveReceivedCommandWith(StartReplicationCommand, {
      ReplicationConfigArn: 'arn:aws:dms:us-west-2:123456789012:replication-config:EXAMPLECONFIGID',
      StartReplicationType: 'resume-processing',
    });
  });
});

// -------------------------------------------------------------------------------------------------
// Step Functions
// -------------------------------------------------------------------------------------------------

const EXECUTION_ARN = 'arn:aws:states:us-east-1:012345678912:execution:state-machine-name:execution-name';
const INPUT = JSON.stringify({ correlationId: 'cid-9', dataset: 'sales' });

function execution(overrides: Record<string, unknown>) {
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: EXECUTION_ARN,
    stateMachineArn: STATE_MACHINE_ARN,
    name: 'execution-name',
    status: 'FAILED',
    input: INPUT,
    error: 'DMS.TaskFailed',
    cause: 'Replication task failed',
    redriveCount: 0,
    redriveStatus: 'REDRIVABLE',
    startDate: new Date(),
    ...overrides,
  } as never);
}

describe('remediation: Step Functions execution FAILED', () => {
  beforeEach(() => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${EXECUTION_ARN}-r1`, startDate: new Date() });
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });
  });

  test('starts a new execution with the same input (a redrive would only re-run the Fail state)', async () => {
    execution({});
    const outcomes = await invoke(sample('sfn-execution-failed'));

    expect(outcomes).toEqual([{ result: 'restarted', detail: { attempt: 1, name: 'execution-name-r1' } }]);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: 'execution-name-r1',
      input: INPUT,
    });
    expect(sfn).not.toHaveReceivedCommand(RedriveExecutionCommand);
  });

  test('a failed restart is restarted under the next number, counted from its name', async () => {
    execution({ name: 'execution-name-r1', executionArn: `${EXECUTION_ARN}-r1` });
    const outcomes = await invoke(sample('sfn-execution-failed'));

    expect(outcomes[0]).toMatchObject({ result: 'restarted', detail: { attempt: 2, name: 'execution-name-r2' } });
  });

  test('at the bound it alerts with the correlation id from the execution input', async () => {
    execution({ name: 'execution-name-r3' });
    const outcomes = await invoke(sample('sfn-execution-failed'));

    expect(outcomes[0]!.result).toBe('alerted');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(published()[0]!.json).toMatchObject({
      type: 'execution-retries-exhausted',
      correlationId: 'cid-9',
      attempts: 3,
      lastError: 'DMS.TaskFailed: Replication task failed',
      resource: { executionArn: EXECUTION_ARN },
    });
  });

  test('redrives of a timed-out run count towards the bound too', async () => {
    execution({ name: 'execution-name-r1', redriveCount: 2 });
    expect((await invoke(sample('sfn-execution-failed')))[0]!.result).toBe('alerted');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('a restart that already exists (a repeated remediation) is not an error and not a second execution', async () => {
    execution({});
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const outcomes = await invoke(sample('sfn-execution-failed'));
    expect(outcomes[0]).toMatchObject({ result: 'restarted', detail: { alreadyStarted: true } });
  });

  test('restart names stay valid execution names however long the original', () => {
    expect(restartName('a'.repeat(80), 12)).toBe(`${'a'.repeat(76)}-r12`);
    expect(restartName('odd name:x', 1)).toBe('odd_name_x-r1');
    expect(parseRestartName(restartName('a'.repeat(80), 9))).toEqual({ base: 'a'.repeat(77), attempts: 9 });
    expect(parseRestartName('0123456789abcdef0123456789abcdef')).toEqual({
      base: '0123456789abcdef0123456789abcdef',
      attempts: 0,
    });
  });

  test('an execution of another state machine is alerted, not started on ours', async () => {
    execution({ stateMachineArn: 'arn:aws:states:us-east-1:012345678912:stateMachine:someone-elses' });
    const outcomes = await invoke(sample('sfn-execution-failed'));

    expect(outcomes[0]).toMatchObject({ result: 'alerted', detail: { type: 'execution-not-retryable' } });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('an execution already running again is left alone', async () => {
    execution({ status: 'RUNNING' });
    expect((await invoke(sample('sfn-execution-failed')))[0]!.result).toBe('ignored');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(sfn).not.toHaveReceivedCommand(RedriveExecutionCommand);
  });
});

describe('remediation: Step Functions execution TIMED_OUT or ABORTED', () => {
  beforeEach(() => {
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });
  });

  test('a timed-out execution is redriven from where it stopped, with an idempotency token', async () => {
    execution({ status: 'TIMED_OUT', redriveCount: 1 });
    const outcomes = await invoke(sample('sfn-execution-timed-out'));

    expect(outcomes).toEqual([{ result: 'redriven', detail: { attempt: 2 } }]);
    const input = sfn.commandCalls(RedriveExecutionCommand)[0]!.args[0].input;
    expect(input.executionArn).toBe(EXECUTION_ARN);
    expect(input.clientToken).toMatch(/^[0-9a-f]{64}$/);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('a timed-out execution Step Functions will not redrive (e.g. older than 14 days) is alerted with the reason', async () => {
    execution({
      status: 'TIMED_OUT',
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is older than 14 days',
    });
    await invoke(sample('sfn-execution-timed-out'));

    expect(sfn).not.toHaveReceivedCommand(RedriveExecutionCommand);
    expect(published()[0]!.json).toMatchObject({
      type: 'execution-not-retryable',
      summary: expect.stringContaining('older than 14 days'),
    });
  });

  test('ExecutionNotRedrivable from the redrive itself ends in an alert', async () => {
    execution({ status: 'TIMED_OUT' });
    sfn.on(RedriveExecutionCommand).rejects(new ExecutionNotRedrivable({ message: 'not redrivable', $metadata: {} }));
    expect((await invoke(sample('sfn-execution-timed-out')))[0]!.result).toBe('alerted');
  });

  test('an aborted execution is reported and never redriven or restarted', async () => {
    process.env.STATE_MACHINE_LOG_GROUP = '/aws/vendedlogs/states/orchestration';
    execution({ status: 'ABORTED' });
    const outcomes = await invoke(sample('sfn-execution-aborted'));

    expect(outcomes[0]!.result).toBe('alerted');
    expect(sfn).not.toHaveReceivedCommand(RedriveExecutionCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    const alert = published()[0]!.json;
    expect(alert).toMatchObject({ type: 'execution-aborted', correlationId: 'cid-9' });
    expect(alert.links.logs).toContain(
      '#logsV2:log-groups/log-group/$252Faws$252Fvendedlogs$252Fstates$252Forchestration',
    );
    expect(alert.links.execution).toContain(
      'https://us-west-2.console.aws.amazon.com/states/home?region=us-west-2#/v2/executions/details/',
    );
  });

  test('a succeeded execution is ignored', async () => {
    expect((await invoke(sample('sfn-execution-succeeded')))[0]!.result).toBe('ignored');
    expect(sfn).not.toHaveReceivedAnyCommand();
  });
});

// -------------------------------------------------------------------------------------------------
// Validation failures and input errors
// -------------------------------------------------------------------------------------------------

function validationFailure(): SNSEvent {
  const event = loadEvent<SNSEvent>('sns-event');
  const sns = event.Records[0]!.Sns;
  sns.MessageId = `validation-${++eventCounter}`;
  sns.Message = JSON.stringify({
    schemaVersion: 1,
    status: 'FAILED',
    dataset: 'sales',
    correlationId: 'cid-7',
    bucket: 'data-bucket',
    key: 'incoming/sales/bad.csv',
    versionId: 'v7',
    reportKey: 'reports/sales/cid-7.json',
    destinationKey: 'quarantine/sales/bad.csv',
    rowCount: 100,
    errorRows: 40,
    reasons: ['40 of 100 rows failed type checks (tolerated 1%)', 'column amount: not a decimal'],
  });
  sns.MessageAttributes = {
    status: { Type: 'String', Value: 'FAILED' },
    dataset: { Type: 'String', Value: 'sales' },
    correlationId: { Type: 'String', Value: 'cid-7' },
  };
  return event;
}

describe('remediation: validation FAILED', () => {
  test('alerts with the reasons and a link to the report, and retries nothing', async () => {
    const outcomes = await invoke(validationFailure());

    expect(outcomes).toEqual([{ result: 'alerted' }]);
    for (const client of [glue, dms, sfn, s3]) expect(client).not.toHaveReceivedAnyCommand();
    const alert = published()[0]!;
    expect(alert.json).toMatchObject({
      type: 'validation-failed',
      correlationId: 'cid-7',
      attempts: 0,
      lastError: '40 of 100 rows failed type checks (tolerated 1%); column amount: not a decimal',
      links: {
        report:
          'https://s3.console.aws.amazon.com/s3/object/data-bucket?region=us-west-2&prefix=reports%2Fsales%2Fcid-7.json',
        quarantinedObject:
          'https://s3.console.aws.amazon.com/s3/object/data-bucket?region=us-west-2&prefix=quarantine%2Fsales%2Fbad.csv',
      },
      details: { dataset: 'sales', rowCount: 100, errorRows: 40 },
    });
    expect(alert.subject).toBe('Validation FAILED: incoming/sales/bad.csv');
  });

  test('a redelivered SNS message does not alert twice', async () => {
    const event = validationFailure();
    await invoke(event);
    await invoke(event);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});

describe("remediation: only the stage's own resources", () => {
  /** Every client but SSM (which only answers which task is the stage's). */
  const actingClients = () => [glue, dms, sfn, s3, sns, dynamodb];
  const skipLog = () =>
    stdout.lines().find((line) => line.message === "Skipping an event about a resource that is not this stage's");

  test('a failed run of another Glue job is skipped and logged, with no AWS call', async () => {
    const outcomes = await invoke(sample('glue-job-state-change-failed', (e) => (e.detail.jobName = 'MyJob-2')));

    expect(outcomes).toEqual([
      { result: 'skipped', detail: { reason: "Glue job MyJob-2 is not the stage's validation job MyJob" } },
    ]);
    for (const client of [...actingClients(), ssm]) expect(client).not.toHaveReceivedAnyCommand();
    expect(skipLog()).toMatchObject({ level: 'WARN', action: 'retry-glue-job', jobName: 'MyJob-2' });
  });

  test("a failure of another DMS task is skipped: only the stage's parameter is read", async () => {
    const foreign = 'arn:aws:dms:us-east-1:012345678901:task:SOMEONEELSESTASK';
    const outcomes = await invoke(sample('dms-replication-task-failed', (e) => ((e as Json).resources = [foreign])));

    expect(outcomes[0]).toMatchObject({ result: 'skipped' });
    for (const client of actingClients()) expect(client).not.toHaveReceivedAnyCommand();
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: TASK_ARN_PARAMETER });
    expect(skipLog()).toMatchObject({ action: 'recover-dms', replicationTaskArn: foreign });
  });

  test('after a replacement the new task is recovered and the old one skipped, whatever the deployed ARN', async () => {
    const replacement = 'arn:aws:dms:us-east-1:012345678901:task:REPLACEMENTTASK0001';
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: TASK_ARN_PARAMETER, Value: replacement } });
    dms.on(StartReplicationTaskCommand).resolves({});
    dms.on(DescribeReplicationTasksCommand).resolves({
      ReplicationTasks: [
        {
          ReplicationTaskArn: replacement,
          Status: 'failed',
          StopReason: 'Stop Reason FATAL_ERROR',
          LastFailureMessage: 'Network error',
        },
      ],
    });

    const old = await invoke(sample('dms-replication-task-failed'));
    expect(old[0]).toMatchObject({ result: 'skipped' });
    expect(dms).not.toHaveReceivedAnyCommand();

    const current = await invoke(sample('dms-replication-task-failed', (e) => ((e as Json).resources = [replacement])));
    expect(current[0]).toMatchObject({ result: 'resumed' });
    expect(dms).toHaveReceivedCommandWith(StartReplicationTaskCommand, {
      ReplicationTaskArn: replacement,
      StartReplicationTaskType: 'resume-processing',
    });
    // One read served both events (cached for a minute).
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
  });

  test('a DMS Serverless replication is skipped when the stage has none', async () => {
    delete process.env.REPLICATION_CONFIG_ARN;
    const outcomes = await invoke(sample('dms-replication-failed-serverless'));

    expect(outcomes[0]).toMatchObject({ result: 'skipped' });
    for (const client of [...actingClients(), ssm]) expect(client).not.toHaveReceivedAnyCommand();
    expect(skipLog()).toMatchObject({ replicationConfigArn: REPLICATION_CONFIG_ARN });
  });

  test('a failed execution of another state machine is skipped before any Step Functions call', async () => {
    const other = 'arn:aws:states:us-east-1:012345678912:stateMachine:state-machine-2';
    for (const name of ['sfn-execution-failed', 'sfn-execution-aborted']) {
      const outcomes = await invoke(sample(name, (e) => (e.detail.stateMachineArn = other)));
      expect(outcomes[0]).toMatchObject({ result: 'skipped' });
    }
    for (const client of [...actingClients(), ssm]) expect(client).not.toHaveReceivedAnyCommand();
    expect(skipLog()).toMatchObject({ stateMachineArn: other });
  });

  test('a validation result for another bucket is skipped without an alert', async () => {
    const event = validationFailure();
    const record = event.Records[0]!;
    const message = JSON.parse(record.Sns.Message) as Json;
    record.Sns.Message = JSON.stringify({ ...message, bucket: 'data-bucket-elsewhere' });
    const outcomes = await invoke(event);

    expect(outcomes).toEqual([expect.objectContaining({ result: 'skipped' })]);
    for (const client of actingClients()) expect(client).not.toHaveReceivedAnyCommand();
  });

  test('without the task parameter the function refuses to run, naming the variable', async () => {
    delete process.env.REPLICATION_TASK_ARN_PARAMETER;
    await expect(invoke(sample('dms-replication-task-failed'))).rejects.toThrow(/REPLICATION_TASK_ARN_PARAMETER/);
  });
});

describe('remediation: input it cannot use', () => {
  test('a malformed event throws with the field named, so Lambda retries it and then dead-letters it', async () => {
    const event = sample('glue-job-state-change-failed', (e) => delete e.detail.jobName);
    await expect(invoke(event)).rejects.toThrow(MalformedEventError);
    await expect(invoke(event)).rejects.toThrow(
      'detail.jobName is missing: expected a Glue Job State Change event from EventBridge',
    );
  });

  test('a MAX_ATTEMPTS that is not a number is a configuration error naming the variable', async () => {
    process.env.MAX_ATTEMPTS = 'three';
    await expect(invoke(sample('glue-job-state-change-failed'))).rejects.toThrow(
      "Environment variable MAX_ATTEMPTS is 'three'",
    );
  });
});

describe('alert rendering', () => {
  const subjectOf = (title: string) =>
    renderAlert({ type: 't', title, summary: 's', resource: {}, attempts: 0, links: {} }, new Date(0)).subject;

  test('the subject fits SNS (printable ASCII, less than 100 characters) however long the key', () => {
    const subject = subjectOf(`Validation FAILED: incoming/${'très-long-nom-de-fichier/'.repeat(10)}x.csv`);
    expect(subject).toHaveLength(99);
    expect(subject.endsWith('...')).toBe(true);
    expect(subject).toMatch(/^[\x20-\x7E]+$/);
  });

  test('a title of exactly 100 characters is shortened; 99 is kept as it is', () => {
    expect(subjectOf('x'.repeat(100))).toBe(`${'x'.repeat(96)}...`);
    expect(subjectOf('y'.repeat(99))).toBe('y'.repeat(99));
  });
});
