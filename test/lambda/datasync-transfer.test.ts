import {
  CreateLocationNfsCommand,
  CreateLocationSmbCommand,
  CreateTaskCommand,
  DataSyncClient,
  DeleteLocationCommand,
  DeleteTaskCommand,
  InvalidRequestException,
  UpdateTaskCommand,
} from '@aws-sdk/client-datasync';
import { mockClient } from 'aws-sdk-client-mock';
import {
  isTransferComplete,
  onTransferEvent,
  TASK_OPTIONS,
  TRANSFER_RESOURCE_TYPE,
} from '../../lambda/datasync-agent-setup/transfer';
import { OnEventResponse, parseOnEventRequest } from '../../lambda/shared/custom-resource';
import { createEvent, deleteEvent, updateEvent } from '../fixtures/events/custom-resource/events';

// The Lambda runtime provides @aws-sdk/client-secrets-manager; it is not installed here, so the
// module is replaced by a virtual mock (see lambda/datasync-agent-setup/smb-password.ts).
const mockGetSecretValue = jest.fn<Promise<{ SecretString?: string }>, [{ input: { SecretId: string } }]>();
jest.mock(
  '@aws-sdk/client-secrets-manager',
  () => ({
    SecretsManagerClient: class {
      send(command: { input: { SecretId: string } }) {
        return mockGetSecretValue(command);
      }
    },
    GetSecretValueCommand: class {
      constructor(public readonly input: { SecretId: string }) {}
    },
  }),
  { virtual: true },
);

const datasync = mockClient(DataSyncClient);
const AGENT_ARN = 'arn:aws:datasync:us-west-2:123456789012:agent/agent-0b0addbeef44baca3';
const LOCATION_ARN = 'arn:aws:datasync:us-west-2:123456789012:location/loc-0a1b2c3d4e5f60718';
const TASK_ARN = 'arn:aws:datasync:us-west-2:123456789012:task/task-0a1b2c3d4e5f60718';
const NEW_LOCATION_ARN = 'arn:aws:datasync:us-west-2:123456789012:location/loc-1111111111111111a';
const NEW_TASK_ARN = 'arn:aws:datasync:us-west-2:123456789012:task/task-1111111111111111a';
const S3_LOCATION_ARN = 'arn:aws:datasync:us-west-2:123456789012:location/loc-s3s3s3s3s3s3s3s3s';
const LOG_GROUP_ARN = 'arn:aws:logs:us-west-2:123456789012:log-group:datasync-task:*';
const SECRET_ARN = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:smb-password-AbCdEf';
const PASSWORD = 'S3cr3t-Sh@re-Pa55';

const NFS = { Protocol: 'NFS', ServerHostname: 'nfs.onprem.example.internal', Subdirectory: '/exports/migration' };
const SMB = {
  Protocol: 'SMB',
  ServerHostname: 'files.onprem.example.internal',
  Subdirectory: '/share/migration',
  User: 'svc-datasync',
  Domain: '',
  PasswordSecretArn: SECRET_ARN,
};

const props = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  AgentArn: AGENT_ARN,
  Source: NFS,
  DestinationLocationArn: S3_LOCATION_ARN,
  CloudWatchLogGroupArn: LOG_GROUP_ARN,
  TaskName: 'dev-migration-agent-task',
  ScheduleExpression: '',
  ActivationAttempt: '0',
  ...overrides,
});

const run = (event: Record<string, unknown>): Promise<OnEventResponse> => onTransferEvent(parseOnEventRequest(event));
const CREATED_ID = `${LOCATION_ARN}|${TASK_ARN}`;

beforeEach(() => {
  datasync.reset();
  mockGetSecretValue.mockReset();
  datasync.on(CreateLocationNfsCommand).resolves({ LocationArn: LOCATION_ARN });
  datasync.on(CreateLocationSmbCommand).resolves({ LocationArn: LOCATION_ARN });
  datasync.on(CreateTaskCommand).resolves({ TaskArn: TASK_ARN });
});

describe('Create', () => {
  it('creates the NFS location on the agent and a verified, logged task', async () => {
    const result = await run(createEvent(TRANSFER_RESOURCE_TYPE, props({ ScheduleExpression: 'cron(0 2 * * ? *)' })));

    expect(datasync).toHaveReceivedCommandWith(CreateLocationNfsCommand, {
      ServerHostname: 'nfs.onprem.example.internal',
      Subdirectory: '/exports/migration',
      OnPremConfig: { AgentArns: [AGENT_ARN] },
    });
    expect(datasync).toHaveReceivedCommandWith(CreateTaskCommand, {
      Name: 'dev-migration-agent-task',
      SourceLocationArn: LOCATION_ARN,
      DestinationLocationArn: S3_LOCATION_ARN,
      CloudWatchLogGroupArn: LOG_GROUP_ARN,
      Options: {
        VerifyMode: 'ONLY_FILES_TRANSFERRED',
        LogLevel: 'TRANSFER',
        OverwriteMode: 'ALWAYS',
        TransferMode: 'CHANGED',
        PreserveDeletedFiles: 'PRESERVE',
      },
      Schedule: { ScheduleExpression: 'cron(0 2 * * ? *)' },
    });
    expect(result.PhysicalResourceId).toBe(CREATED_ID);
    expect(result.Data).toMatchObject({ TransferStatus: 'READY', SourceLocationArn: LOCATION_ARN, TaskArn: TASK_ARN });
    expect(result.Data?.['SetupInstructions']).toContain(`aws datasync start-task-execution --task-arn ${TASK_ARN}`);
  });

  it('creates an on-demand task when there is no schedule', async () => {
    await run(createEvent(TRANSFER_RESOURCE_TYPE, props()));
    expect(datasync.commandCalls(CreateTaskCommand)[0]?.args[0].input.Schedule).toBeUndefined();
  });

  it('waits for an agent instead of failing', async () => {
    const result = await run(createEvent(TRANSFER_RESOURCE_TYPE, props({ AgentArn: '' })));
    expect(datasync.calls()).toHaveLength(0);
    expect(result).toMatchObject({
      PhysicalResourceId: 'not-created',
      Data: { TransferStatus: 'WAITING_FOR_AGENT', TaskArn: '', SourceLocationArn: '' },
    });
  });

  it('reads the SMB password from the secret at run time and never logs or returns it', async () => {
    mockGetSecretValue.mockResolvedValue({
      SecretString: JSON.stringify({ username: 'svc-datasync', password: PASSWORD }),
    });
    const written: string[] = [];
    const capture = (chunk: unknown): boolean => {
      written.push(String(chunk));
      return true;
    };
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    let result: OnEventResponse;
    try {
      result = await run(createEvent(TRANSFER_RESOURCE_TYPE, props({ Source: SMB })));
    } finally {
      out.mockRestore();
      err.mockRestore();
    }

    expect(mockGetSecretValue.mock.calls[0]?.[0].input).toEqual({ SecretId: SECRET_ARN });
    expect(datasync).toHaveReceivedCommandWith(CreateLocationSmbCommand, {
      ServerHostname: 'files.onprem.example.internal',
      Subdirectory: '/share/migration',
      User: 'svc-datasync',
      Password: PASSWORD,
      AgentArns: [AGENT_ARN],
    });
    expect(datasync.commandCalls(CreateLocationSmbCommand)[0]?.args[0].input).not.toHaveProperty('Domain');
    expect(written.join('')).toContain('Created DataSync source location and task'); // logging did happen
    expect(written.join('')).not.toContain(PASSWORD);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it.each([
    ['is not JSON', { SecretString: `password=${PASSWORD}` }, 'is not a JSON object with a "password" key'],
    ['has no password key', { SecretString: JSON.stringify({ pass: PASSWORD }) }, 'has no non-empty "password" key'],
    ['is binary', {}, 'has no SecretString'],
  ])('reports an SMB secret that %s without quoting it', async (_case, secret, message) => {
    mockGetSecretValue.mockResolvedValue(secret);
    const result = await run(createEvent(TRANSFER_RESOURCE_TYPE, props({ Source: SMB })));
    expect(result.PhysicalResourceId).toBe('not-created');
    expect(result.Data?.['SetupInstructions']).toContain(`SMB password secret ${SECRET_ARN} ${message}`);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
    expect(datasync).not.toHaveReceivedCommand(CreateLocationSmbCommand);
  });

  it('reports a location failure instead of failing the stack', async () => {
    datasync
      .on(CreateLocationNfsCommand)
      .rejects(new InvalidRequestException({ message: 'Agent is offline', $metadata: {} }));
    const result = await run(createEvent(TRANSFER_RESOURCE_TYPE, props()));
    expect(datasync).not.toHaveReceivedCommand(CreateTaskCommand);
    expect(result).toMatchObject({ PhysicalResourceId: 'not-created', Data: { TransferStatus: 'FAILED' } });
    expect(result.Data?.['SetupInstructions']).toContain(
      'Creating the source location nfs://nfs.onprem.example.internal/exports/migration failed: InvalidRequestException: Agent is offline',
    );
    expect(result.Data?.['SetupInstructions']).toContain('set dataSync.activationAttempt to 1');
  });

  it('removes the location it just made when the task cannot be created', async () => {
    datasync
      .on(CreateTaskCommand)
      .rejects(new InvalidRequestException({ message: 'Log group not authorized', $metadata: {} }));
    datasync.on(DeleteLocationCommand).resolves({});
    const result = await run(createEvent(TRANSFER_RESOURCE_TYPE, props()));
    expect(datasync).toHaveReceivedCommandWith(DeleteLocationCommand, { LocationArn: LOCATION_ARN });
    expect(result).toMatchObject({
      PhysicalResourceId: 'not-created',
      Data: { TransferStatus: 'FAILED', TaskArn: '' },
    });
    expect(result.Data?.['SetupInstructions']).toContain(
      'Creating the DataSync task failed: InvalidRequestException: Log group not authorized',
    );
  });
});

describe('Update', () => {
  it('updates the task in place when only the schedule changes', async () => {
    datasync.on(UpdateTaskCommand).resolves({});
    const result = await run(
      updateEvent(TRANSFER_RESOURCE_TYPE, CREATED_ID, props({ ScheduleExpression: 'rate(12 hours)' }), props()),
    );
    expect(datasync).toHaveReceivedCommandWith(UpdateTaskCommand, {
      TaskArn: TASK_ARN,
      Name: 'dev-migration-agent-task',
      Options: TASK_OPTIONS,
      CloudWatchLogGroupArn: LOG_GROUP_ARN,
      Schedule: { ScheduleExpression: 'rate(12 hours)' },
    });
    expect(datasync).not.toHaveReceivedCommand(CreateLocationNfsCommand);
    expect(result.PhysicalResourceId).toBe(CREATED_ID);
  });

  it('removes a schedule with an empty expression', async () => {
    datasync.on(UpdateTaskCommand).resolves({});
    await run(
      updateEvent(TRANSFER_RESOURCE_TYPE, CREATED_ID, props(), props({ ScheduleExpression: 'rate(12 hours)' })),
    );
    expect(datasync).toHaveReceivedCommandWith(UpdateTaskCommand, { Schedule: { ScheduleExpression: '' } });
  });

  it('reports a failed task update and keeps the task', async () => {
    datasync.on(UpdateTaskCommand).rejects(new InvalidRequestException({ message: 'Invalid schedule', $metadata: {} }));
    const result = await run(
      updateEvent(TRANSFER_RESOURCE_TYPE, CREATED_ID, props({ ScheduleExpression: 'cron(bad)' }), props()),
    );
    expect(result).toMatchObject({
      PhysicalResourceId: CREATED_ID,
      Data: { TransferStatus: 'UPDATE_FAILED', TaskArn: TASK_ARN },
    });
  });

  it.each([
    ['the share', { Source: { ...NFS, Subdirectory: '/exports/other' } }],
    ['the agent', { AgentArn: 'arn:aws:datasync:us-west-2:123456789012:agent/agent-0123456789abcdef0' }],
    [
      'the destination',
      { DestinationLocationArn: 'arn:aws:datasync:us-west-2:123456789012:location/loc-another00000000' },
    ],
  ])('builds a new location and task when %s changes (CloudFormation deletes the old ones)', async (_case, change) => {
    datasync.on(CreateLocationNfsCommand).resolves({ LocationArn: NEW_LOCATION_ARN });
    datasync.on(CreateTaskCommand).resolves({ TaskArn: NEW_TASK_ARN });
    const result = await run(updateEvent(TRANSFER_RESOURCE_TYPE, CREATED_ID, props(change), props()));
    expect(datasync).not.toHaveReceivedCommand(UpdateTaskCommand);
    expect(result.PhysicalResourceId).toBe(`${NEW_LOCATION_ARN}|${NEW_TASK_ARN}`);
  });

  it('creates the location and task once the agent exists', async () => {
    const result = await run(updateEvent(TRANSFER_RESOURCE_TYPE, 'not-created', props(), props({ AgentArn: '' })));
    expect(result.PhysicalResourceId).toBe(CREATED_ID);
  });

  it('retries a failed creation when the attempt number changes', async () => {
    const result = await run(
      updateEvent(TRANSFER_RESOURCE_TYPE, 'not-created', props({ ActivationAttempt: '1' }), props()),
    );
    expect(datasync).toHaveReceivedCommand(CreateLocationNfsCommand);
    expect(result.PhysicalResourceId).toBe(CREATED_ID);
  });

  it('lets go of a task whose agent is gone', async () => {
    const result = await run(updateEvent(TRANSFER_RESOURCE_TYPE, CREATED_ID, props({ AgentArn: '' }), props()));
    expect(datasync.calls()).toHaveLength(0);
    expect(result.PhysicalResourceId).toBe('not-created');
  });
});

describe('Delete', () => {
  it('deletes the task, then the location it reads', async () => {
    datasync.on(DeleteTaskCommand).resolves({});
    datasync.on(DeleteLocationCommand).resolves({});
    await expect(run(deleteEvent(TRANSFER_RESOURCE_TYPE, CREATED_ID, props()))).resolves.toEqual({});
    const calls = datasync.calls().map((c) => c.args[0].constructor.name);
    expect(calls).toEqual(['DeleteTaskCommand', 'DeleteLocationCommand']);
    expect(datasync).toHaveReceivedCommandWith(DeleteTaskCommand, { TaskArn: TASK_ARN });
    expect(datasync).toHaveReceivedCommandWith(DeleteLocationCommand, { LocationArn: LOCATION_ARN });
  });

  it('never throws, so a stuck delete cannot block stack deletion', async () => {
    datasync
      .on(DeleteTaskCommand)
      .rejects(new InvalidRequestException({ message: 'Task does not exist', $metadata: {} }));
    datasync
      .on(DeleteLocationCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(run(deleteEvent(TRANSFER_RESOURCE_TYPE, CREATED_ID, props()))).resolves.toEqual({});
  });

  it('has nothing to delete when nothing was created', async () => {
    await run(deleteEvent(TRANSFER_RESOURCE_TYPE, 'not-created', props()));
    expect(datasync.calls()).toHaveLength(0);
  });
});

it('is complete as soon as onEvent returns', () => {
  expect(isTransferComplete()).toEqual({ IsComplete: true });
});
