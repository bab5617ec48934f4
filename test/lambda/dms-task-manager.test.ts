import {
  AddTagsToResourceCommand,
  CreateReplicationTaskCommand,
  DatabaseMigrationServiceClient,
  DeleteReplicationTaskCommand,
  DescribeReplicationTasksCommand,
  ListTagsForResourceCommand,
  ModifyReplicationTaskCommand,
  ResourceNotFoundFault,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/dms-task-manager';
import {
  isTaskComplete,
  onTaskEvent,
  parseTaskProperties,
  replacementIdentifier,
  TASK_RESOURCE_TYPE,
} from '../../lambda/dms-task-manager/task-manager';
import {
  IsCompleteResponse,
  OnEventResponse,
  parseIsCompleteRequest,
  parseOnEventRequest,
} from '../../lambda/shared/custom-resource';
import { createEvent, deleteEvent, isCompleteEvent, updateEvent } from '../fixtures/events/custom-resource/events';

const dms = mockClient(DatabaseMigrationServiceClient);
const TASK_ARN = 'arn:aws:dms:us-west-2:123456789012:task:EXAMPLEABCDEFGHIJKLMNOPQRS';
const NEW_TASK_ARN = 'arn:aws:dms:us-west-2:123456789012:task:REPLACEMENTABCDEFGHIJKLMNO';
const MAPPINGS = {
  rules: [
    {
      'rule-type': 'selection',
      'rule-id': '1',
      'rule-name': 'orders',
      'object-locator': { 'schema-name': 'orders', 'table-name': '%' },
      'rule-action': 'include',
    },
  ],
};
const NEW_MAPPINGS = {
  rules: [
    ...MAPPINGS.rules,
    {
      ...MAPPINGS.rules[0],
      'rule-id': '2',
      'rule-name': 'billing',
      'object-locator': { 'schema-name': 'billing', 'table-name': '%' },
    },
  ],
};

const props = (overrides: Record<string, string> = {}): Record<string, string> => ({
  ReplicationTaskIdentifier: 'dev-migration-dms-task',
  ReplicationInstanceArn: 'arn:aws:dms:us-west-2:123456789012:rep:INSTANCE',
  SourceEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:SOURCE',
  TargetEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:TARGET',
  MigrationType: 'full-load-and-cdc',
  TableMappings: JSON.stringify(MAPPINGS),
  ReplicationTaskSettings: JSON.stringify({ ValidationSettings: { EnableValidation: true } }),
  ...overrides,
});

/**
 * A small in-memory DMS: commands change the status the way DMS does, and `settle()` finishes a
 * transition (stopping → stopped, modifying → stopped/ready, starting → running, deleting → gone).
 */
class FakeDms {
  status: string | undefined;
  identifier = 'dev-migration-dms-task';
  tags = new Map<string, string>();
  private beforeModify = 'ready';

  constructor(status: string | undefined) {
    this.status = status;
    dms.on(DescribeReplicationTasksCommand).callsFake(() => {
      if (this.status === undefined)
        throw new ResourceNotFoundFault({ message: 'No Tasks found matching provided filters', $metadata: {} });
      return {
        ReplicationTasks: [
          { ReplicationTaskArn: TASK_ARN, ReplicationTaskIdentifier: this.identifier, Status: this.status },
        ],
      };
    });
    dms.on(StopReplicationTaskCommand).callsFake(() => {
      this.status = 'stopping';
      return {};
    });
    dms.on(ModifyReplicationTaskCommand).callsFake((input: { ReplicationTaskIdentifier?: string }) => {
      this.beforeModify = this.status ?? 'ready';
      this.status = 'modifying';
      if (input.ReplicationTaskIdentifier) this.identifier = input.ReplicationTaskIdentifier;
      return {};
    });
    dms.on(StartReplicationTaskCommand).callsFake(() => {
      this.status = 'starting';
      return {};
    });
    dms.on(DeleteReplicationTaskCommand).callsFake(() => {
      this.status = 'deleting';
      return {};
    });
    dms
      .on(ListTagsForResourceCommand)
      .callsFake(() => ({ TagList: [...this.tags].map(([Key, Value]) => ({ Key, Value })) }));
    dms.on(AddTagsToResourceCommand).callsFake((input: { Tags?: { Key?: string; Value?: string }[] }) => {
      for (const t of input.Tags ?? []) this.tags.set(t.Key ?? '', t.Value ?? '');
      return {};
    });
  }

  settle(): void {
    const next: Record<string, string | undefined> = {
      stopping: 'stopped',
      modifying: this.beforeModify,
      starting: 'running',
      creating: 'ready',
      deleting: undefined,
    };
    if (this.status !== undefined && this.status in next) this.status = next[this.status];
  }
}

const onEvent = (event: Record<string, unknown>): Promise<OnEventResponse> => onTaskEvent(parseOnEventRequest(event));

/** Polls isComplete like the Provider's waiter, letting DMS settle between polls. */
async function pollUntilComplete(
  event: Record<string, unknown>,
  result: OnEventResponse,
  fake: FakeDms,
  maxPolls = 20,
): Promise<IsCompleteResponse> {
  const request = parseIsCompleteRequest(isCompleteEvent(event, { ...result }));
  for (let i = 0; i < maxPolls; i++) {
    const response = await isTaskComplete(request);
    if (response.IsComplete) return response;
    fake.settle();
  }
  throw new Error(`not complete after ${maxPolls} polls`);
}

const commandNames = (): string[] =>
  dms
    .calls()
    .map((c) => c.args[0].constructor.name)
    .filter(
      (n) => !['DescribeReplicationTasksCommand', 'ListTagsForResourceCommand', 'AddTagsToResourceCommand'].includes(n),
    );

beforeEach(() => dms.reset());

describe('Create', () => {
  it('creates the task with serialised mappings and waits for ready, without starting it', async () => {
    const fake = new FakeDms('creating');
    dms.on(CreateReplicationTaskCommand).resolves({ ReplicationTask: { ReplicationTaskArn: TASK_ARN } });
    const event = createEvent(TASK_RESOURCE_TYPE, props());

    const result = await onEvent(event);
    expect(dms).toHaveReceivedCommandWith(CreateReplicationTaskCommand, {
      ReplicationTaskIdentifier: 'dev-migration-dms-task',
      ReplicationInstanceArn: 'arn:aws:dms:us-west-2:123456789012:rep:INSTANCE',
      SourceEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:SOURCE',
      TargetEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:TARGET',
      MigrationType: 'full-load-and-cdc',
      TableMappings: JSON.stringify(MAPPINGS),
    });
    expect(result).toMatchObject({
      PhysicalResourceId: TASK_ARN,
      Data: {
        TaskArn: TASK_ARN,
        TaskIdentifier: 'dev-migration-dms-task',
        TaskResourceId: 'EXAMPLEABCDEFGHIJKLMNOPQRS',
      },
    });

    const request = parseIsCompleteRequest(isCompleteEvent(event, { ...result }));
    await expect(isTaskComplete(request)).resolves.toEqual({ IsComplete: false });
    fake.settle();
    await expect(isTaskComplete(request)).resolves.toEqual({ IsComplete: true });
    expect(dms).not.toHaveReceivedCommand(StartReplicationTaskCommand);
  });

  it('fails the deployment with the DMS message when creation fails', async () => {
    new FakeDms('failed');
    dms.on(DescribeReplicationTasksCommand).resolves({
      ReplicationTasks: [
        { ReplicationTaskArn: TASK_ARN, Status: 'failed', LastFailureMessage: 'Endpoint SOURCE is not reachable' },
      ],
    });
    dms.on(CreateReplicationTaskCommand).resolves({ ReplicationTask: { ReplicationTaskArn: TASK_ARN } });
    const event = createEvent(TASK_RESOURCE_TYPE, props());
    const result = await onEvent(event);
    await expect(isTaskComplete(parseIsCompleteRequest(isCompleteEvent(event, { ...result })))).rejects.toThrow(
      `DMS replication task ${TASK_ARN} failed to create: Endpoint SOURCE is not reachable`,
    );
  });

  it.each([
    [
      'an unknown migration type',
      { MigrationType: 'full' },
      /MigrationType is "full"; expected one of full-load, cdc, full-load-and-cdc/,
    ],
    ['mappings that are not JSON', { TableMappings: '{rules:' }, /TableMappings is not valid JSON/],
    ['mappings without rules', { TableMappings: '{}' }, /TableMappings has no "rules" array/],
    [
      'an identifier DMS refuses',
      { ReplicationTaskIdentifier: 'Bad--id-' },
      /ReplicationTaskIdentifier "Bad--id-" must be/,
    ],
  ])('rejects %s before calling DMS', async (_case, override, message) => {
    await expect(onEvent(createEvent(TASK_RESOURCE_TYPE, props(override)))).rejects.toThrow(message);
    expect(dms.calls()).toHaveLength(0);
  });
});

describe('Update of mappings or settings', () => {
  const changed = props({ TableMappings: JSON.stringify(NEW_MAPPINGS) });

  it('stops a running task, modifies it, then resumes processing, in that order', async () => {
    const fake = new FakeDms('running');
    const event = updateEvent(TASK_RESOURCE_TYPE, TASK_ARN, changed, props());

    const result = await onEvent(event);
    expect(result).toMatchObject({
      PhysicalResourceId: TASK_ARN,
      Data: { Operation: 'modify', ResumeAfterModify: 'true' },
    });
    await expect(pollUntilComplete(event, result, fake)).resolves.toMatchObject({ IsComplete: true });

    expect(commandNames()).toEqual([
      'StopReplicationTaskCommand',
      'ModifyReplicationTaskCommand',
      'StartReplicationTaskCommand',
    ]);
    expect(dms).toHaveReceivedCommandWith(ModifyReplicationTaskCommand, {
      ReplicationTaskArn: TASK_ARN,
      ReplicationTaskIdentifier: 'dev-migration-dms-task',
      TableMappings: JSON.stringify(NEW_MAPPINGS),
    });
    expect(dms).toHaveReceivedCommandWith(StartReplicationTaskCommand, {
      ReplicationTaskArn: TASK_ARN,
      StartReplicationTaskType: 'resume-processing',
    });
    expect(fake.status).toBe('running');
  });

  it('only modifies a task that is not running', async () => {
    const fake = new FakeDms('stopped');
    const event = updateEvent(TASK_RESOURCE_TYPE, TASK_ARN, changed, props());
    const result = await onEvent(event);
    await pollUntilComplete(event, result, fake);
    expect(commandNames()).toEqual(['ModifyReplicationTaskCommand']);
    expect(fake.status).toBe('stopped');
  });

  it('does not repeat a step when the same poll is retried', async () => {
    const fake = new FakeDms('running');
    const event = updateEvent(TASK_RESOURCE_TYPE, TASK_ARN, changed, props());
    const result = await onEvent(event);
    const request = parseIsCompleteRequest(isCompleteEvent(event, { ...result }));
    fake.settle(); // stopped
    await isTaskComplete(request); // modifies
    fake.settle(); // back to stopped
    await isTaskComplete(request); // resumes
    await isTaskComplete(request); // still starting: waits, no second start
    expect(dms.commandCalls(ModifyReplicationTaskCommand)).toHaveLength(1);
    expect(dms.commandCalls(StartReplicationTaskCommand)).toHaveLength(1);
  });

  it('completes (the deployment is not failed) when the task does not resume; remediation owns that', async () => {
    const fake = new FakeDms('running');
    const event = updateEvent(TASK_RESOURCE_TYPE, TASK_ARN, changed, props());
    const result = await onEvent(event);
    const request = parseIsCompleteRequest(isCompleteEvent(event, { ...result }));
    for (let i = 0; i < 3; i++) {
      await isTaskComplete(request); // stopping, then modify, then resume
      fake.settle();
    }
    expect(dms).toHaveReceivedCommand(StartReplicationTaskCommand);
    fake.status = 'failed'; // the resume failed (e.g. the binlog position is gone)
    await expect(isTaskComplete(request)).resolves.toEqual({
      IsComplete: true,
      Data: { ResumeOutcome: 'not running after resume: failed' },
    });
  });

  it('keeps the identifier of a replaced task unless the config renames it', async () => {
    const fake = new FakeDms('stopped');
    fake.identifier = 'dev-migration-dms-task-1a2b3c4d';
    const event = updateEvent(TASK_RESOURCE_TYPE, TASK_ARN, changed, props());
    const result = await onEvent(event);
    await pollUntilComplete(event, result, fake);
    expect(dms).toHaveReceivedCommandWith(ModifyReplicationTaskCommand, {
      ReplicationTaskIdentifier: 'dev-migration-dms-task-1a2b3c4d',
    });
    expect(result.Data?.['TaskIdentifier']).toBe('dev-migration-dms-task-1a2b3c4d');
  });

  it('changes nothing when only unrelated properties change', async () => {
    new FakeDms('running');
    const event = updateEvent(TASK_RESOURCE_TYPE, TASK_ARN, props(), props());
    const result = await onEvent(event);
    expect(result.Data).toMatchObject({ Operation: 'none', TaskArn: TASK_ARN });
    await expect(isTaskComplete(parseIsCompleteRequest(isCompleteEvent(event, { ...result })))).resolves.toEqual({
      IsComplete: true,
    });
    expect(commandNames()).toEqual([]);
  });
});

describe('Update of instance, endpoints or migration type', () => {
  it.each([
    ['source endpoint', { SourceEndpointArn: 'arn:aws:dms:us-west-2:123456789012:endpoint:SOURCE2' }],
    ['replication instance', { ReplicationInstanceArn: 'arn:aws:dms:us-west-2:123456789012:rep:INSTANCE2' }],
    ['migration type', { MigrationType: 'cdc' }],
  ])('creates a new task with a distinct identifier when the %s changes', async (_case, change) => {
    new FakeDms('running');
    dms.on(CreateReplicationTaskCommand).resolves({ ReplicationTask: { ReplicationTaskArn: NEW_TASK_ARN } });
    const next = props(change);
    const result = await onEvent(updateEvent(TASK_RESOURCE_TYPE, TASK_ARN, next, props()));

    const identifier = replacementIdentifier(parseTaskProperties(next));
    expect(identifier).toMatch(/^dev-migration-dms-task-[0-9a-f]{8}$/);
    expect(dms).toHaveReceivedCommandWith(CreateReplicationTaskCommand, {
      ReplicationTaskIdentifier: identifier,
      ...change,
    });
    expect(dms).not.toHaveReceivedCommand(StopReplicationTaskCommand);
    expect(result).toMatchObject({
      PhysicalResourceId: NEW_TASK_ARN,
      Data: { Operation: 'create', TaskIdentifier: identifier },
    });
  });

  it('keeps replacement identifiers within DMS limits', () => {
    const long = parseTaskProperties(props({ ReplicationTaskIdentifier: `a${'-b'.repeat(127)}` }));
    const id = replacementIdentifier(long);
    expect(id.length).toBeLessThanOrEqual(255);
    expect(id).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
    expect(id).not.toContain('--');
  });
});

describe('Delete', () => {
  it('stops a running task, then deletes it and waits until it is gone', async () => {
    const fake = new FakeDms('running');
    const event = deleteEvent(TASK_RESOURCE_TYPE, TASK_ARN, props());
    const result = await onEvent(event);
    await pollUntilComplete(event, result, fake);
    expect(commandNames()).toEqual(['StopReplicationTaskCommand', 'DeleteReplicationTaskCommand']);
    expect(fake.status).toBeUndefined();
  });

  it('treats a missing task as deleted', async () => {
    new FakeDms(undefined);
    const event = deleteEvent(TASK_RESOURCE_TYPE, TASK_ARN, props());
    const result = await onEvent(event);
    await expect(isTaskComplete(parseIsCompleteRequest(isCompleteEvent(event, { ...result })))).resolves.toEqual({
      IsComplete: true,
    });
    expect(commandNames()).toEqual([]);
  });

  it('treats a task deleted between describe and delete as deleted', async () => {
    new FakeDms('stopped');
    dms
      .on(DeleteReplicationTaskCommand)
      .rejects(new ResourceNotFoundFault({ message: 'Task not found', $metadata: {} }));
    const event = deleteEvent(TASK_RESOURCE_TYPE, TASK_ARN, props());
    await expect(isTaskComplete(parseIsCompleteRequest(isCompleteEvent(event)))).resolves.toEqual({ IsComplete: true });
  });

  it('has nothing to delete after a create that failed before a task existed', async () => {
    const event = deleteEvent(TASK_RESOURCE_TYPE, 'unique id for this create request', props());
    await expect(onEvent(event)).resolves.toEqual({});
    await expect(isTaskComplete(parseIsCompleteRequest(isCompleteEvent(event)))).resolves.toEqual({ IsComplete: true });
    expect(dms.calls()).toHaveLength(0);
  });
});

describe('handler', () => {
  const ENV = { ...process.env };
  afterEach(() => {
    process.env = ENV;
  });

  it('dispatches by phase', async () => {
    new FakeDms('ready');
    const event = updateEvent(TASK_RESOURCE_TYPE, TASK_ARN, props(), props());
    process.env = { ...ENV, CUSTOM_RESOURCE_PHASE: 'onEvent' };
    const result = (await handler(event)) as OnEventResponse;
    process.env = { ...ENV, CUSTOM_RESOURCE_PHASE: 'isComplete' };
    await expect(handler(isCompleteEvent(event, { ...result }))).resolves.toEqual({ IsComplete: true });
  });

  it('rejects another resource type', async () => {
    process.env = { ...ENV, CUSTOM_RESOURCE_PHASE: 'onEvent' };
    await expect(handler(createEvent('Custom::DataSyncAgent', props()))).rejects.toThrow(
      'Unsupported ResourceType Custom::DataSyncAgent; expected Custom::DmsReplicationTask',
    );
  });
});

describe('transient errors', () => {
  it('polls again after throttling instead of failing a long wait', async () => {
    dms
      .on(DescribeReplicationTasksCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const event = deleteEvent(TASK_RESOURCE_TYPE, TASK_ARN, props());
    await expect(isTaskComplete(parseIsCompleteRequest(isCompleteEvent(event)))).resolves.toEqual({
      IsComplete: false,
    });
  });

  it('fails on errors that will not go away', async () => {
    dms
      .on(DescribeReplicationTasksCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedFault' }));
    const event = deleteEvent(TASK_RESOURCE_TYPE, TASK_ARN, props());
    await expect(isTaskComplete(parseIsCompleteRequest(isCompleteEvent(event)))).rejects.toThrow('not authorized');
  });
});
