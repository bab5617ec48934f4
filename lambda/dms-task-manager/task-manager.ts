import { createHash } from 'node:crypto';
import {
  CreateReplicationTaskCommand,
  DeleteReplicationTaskCommand,
  MigrationTypeValue,
  ModifyReplicationTaskCommand,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import {
  currentPhysicalId,
  oldPropertiesOf,
  describeError,
  errorName,
  InvalidRequestError,
  IsCompleteRequest,
  IsCompleteResponse,
  NOT_COMPLETE,
  OnEventRequest,
  OnEventResponse,
  requireString,
  ResourceProperties,
  ResponseData,
} from '../shared/custom-resource';
import { logger } from '../shared/powertools';
import {
  describeTask,
  dms,
  isTaskArn,
  readUpdateMarker,
  RUNNING_STATES,
  taskResourceId,
  TaskView,
  TRANSITIONAL_STATES,
  writeUpdateMarker,
} from './replication-task';

/**
 * `Custom::DmsReplicationTask`: owns a DMS replication task so that a settings or mappings change
 * to a running task stops it, modifies it and resumes it instead of failing the deployment
 * (AWS::DMS::ReplicationTask rejects updates while the task runs).
 *
 * - Create: create the task and wait until it is `ready`. It is not started: the orchestration
 *   workflow starts it.
 * - Update of mappings, settings or identifier: stop if running, modify, resume with
 *   `resume-processing` if it was running. Update of instance, endpoints or migration type: a new
 *   task (new physical id); CloudFormation then deletes the old one.
 * - Delete: stop if running, delete, wait until gone. A missing task is success.
 *
 * Physical id: the task ARN.
 */
export const TASK_RESOURCE_TYPE = 'Custom::DmsReplicationTask';

const MIGRATION_TYPES: readonly string[] = ['full-load', 'cdc', 'full-load-and-cdc'];
const IDENTIFIER_PATTERN = /^[a-z][a-z0-9-]{0,254}$/;

export interface TaskProperties {
  readonly replicationInstanceArn: string;
  readonly sourceEndpointArn: string;
  readonly targetEndpointArn: string;
  readonly migrationType: MigrationTypeValue;
  readonly tableMappings: string;
  readonly replicationTaskSettings: string;
  readonly identifier: string;
}

/** What onEvent started; isComplete finishes it. */
type Operation = 'create' | 'modify' | 'none';

function requireJsonObject(properties: ResourceProperties, name: string): string {
  const raw = requireString(properties, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new InvalidRequestError(
      `ResourceProperties.${name} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidRequestError(`ResourceProperties.${name} must be a JSON object`);
  }
  return raw;
}

export function parseTaskProperties(properties: ResourceProperties): TaskProperties {
  const migrationType = requireString(properties, 'MigrationType');
  if (!MIGRATION_TYPES.includes(migrationType)) {
    throw new InvalidRequestError(
      `ResourceProperties.MigrationType is ${JSON.stringify(migrationType)}; expected one of ${MIGRATION_TYPES.join(', ')}`,
    );
  }
  const identifier = requireString(properties, 'ReplicationTaskIdentifier');
  if (!IDENTIFIER_PATTERN.test(identifier) || identifier.includes('--') || identifier.endsWith('-')) {
    throw new InvalidRequestError(
      `ResourceProperties.ReplicationTaskIdentifier ${JSON.stringify(identifier)} must be 1-255 lowercase letters, digits or hyphens, start with a letter, and not end with or repeat a hyphen`,
    );
  }
  const tableMappings = requireJsonObject(properties, 'TableMappings');
  if (!Array.isArray((JSON.parse(tableMappings) as { rules?: unknown }).rules)) {
    throw new InvalidRequestError('ResourceProperties.TableMappings has no "rules" array');
  }
  return {
    replicationInstanceArn: requireString(properties, 'ReplicationInstanceArn'),
    sourceEndpointArn: requireString(properties, 'SourceEndpointArn'),
    targetEndpointArn: requireString(properties, 'TargetEndpointArn'),
    migrationType: migrationType as MigrationTypeValue,
    tableMappings,
    replicationTaskSettings: requireJsonObject(properties, 'ReplicationTaskSettings'),
    identifier,
  };
}

/** Instance, endpoints and migration type cannot be modified on an existing task. */
export function needsReplacement(previous: TaskProperties, next: TaskProperties): boolean {
  return (
    previous.replicationInstanceArn !== next.replicationInstanceArn ||
    previous.sourceEndpointArn !== next.sourceEndpointArn ||
    previous.targetEndpointArn !== next.targetEndpointArn ||
    previous.migrationType !== next.migrationType
  );
}

/**
 * The replacement task exists next to the old one until CloudFormation deletes the old one, and
 * identifiers are unique per account and Region: the new one gets a suffix derived from what made
 * it new.
 */
export function replacementIdentifier(props: TaskProperties): string {
  const hash = createHash('sha256')
    .update(
      [props.replicationInstanceArn, props.sourceEndpointArn, props.targetEndpointArn, props.migrationType].join('\n'),
    )
    .digest('hex')
    .slice(0, 8);
  const base = props.identifier.slice(0, 255 - hash.length - 1).replace(/-+$/, '');
  return `${base}-${hash}`;
}

function taskData(taskArn: string, identifier: string, operation: Operation, resumeAfterModify = false): ResponseData {
  return {
    TaskArn: taskArn,
    TaskIdentifier: identifier,
    TaskResourceId: taskResourceId(taskArn),
    Operation: operation,
    ResumeAfterModify: String(resumeAfterModify),
  };
}

async function createTask(props: TaskProperties, identifier: string): Promise<OnEventResponse> {
  const out = await dms.send(
    new CreateReplicationTaskCommand({
      ReplicationTaskIdentifier: identifier,
      ReplicationInstanceArn: props.replicationInstanceArn,
      SourceEndpointArn: props.sourceEndpointArn,
      TargetEndpointArn: props.targetEndpointArn,
      MigrationType: props.migrationType,
      TableMappings: props.tableMappings,
      ReplicationTaskSettings: props.replicationTaskSettings,
    }),
  );
  const taskArn = out.ReplicationTask?.ReplicationTaskArn;
  if (!taskArn) throw new Error(`CreateReplicationTask for ${identifier} returned no task ARN`);
  logger.info('Created DMS replication task', { taskArn, identifier });
  return { PhysicalResourceId: taskArn, Data: taskData(taskArn, identifier, 'create') };
}

async function stopTask(taskArn: string): Promise<void> {
  try {
    await dms.send(new StopReplicationTaskCommand({ ReplicationTaskArn: taskArn }));
    logger.info('Stopping DMS replication task', { taskArn });
  } catch (error) {
    // The task left `running` between describe and stop; the next poll sees where it went.
    if (errorName(error) !== 'InvalidResourceStateFault') throw error;
    logger.info('DMS task changed state before it could be stopped', { taskArn, error: describeError(error) });
  }
}

function parsePrevious(properties: ResourceProperties | undefined): TaskProperties | undefined {
  if (properties === undefined) return undefined;
  try {
    return parseTaskProperties(properties);
  } catch (error) {
    if (error instanceof InvalidRequestError) return undefined;
    throw error;
  }
}

async function onUpdate(request: OnEventRequest, props: TaskProperties): Promise<OnEventResponse> {
  const taskArn = currentPhysicalId(request) ?? '';
  const previous = parsePrevious(oldPropertiesOf(request));
  if (previous === undefined || needsReplacement(previous, props)) {
    logger.info('Instance, endpoints or migration type changed: creating a replacement task', { oldTaskArn: taskArn });
    return createTask(props, replacementIdentifier(props));
  }
  const task = isTaskArn(taskArn) ? await describeTask(taskArn) : undefined;
  if (task === undefined) {
    logger.warn('DMS task of this resource is gone; creating it again', { taskArn });
    return createTask(props, props.identifier);
  }
  // Keep the identifier the task has (a replacement carries a suffix) unless the config renamed it.
  const identifier = previous.identifier !== props.identifier ? props.identifier : task.identifier;
  const changed =
    identifier !== task.identifier ||
    previous.tableMappings !== props.tableMappings ||
    previous.replicationTaskSettings !== props.replicationTaskSettings;
  if (!changed) return { PhysicalResourceId: taskArn, Data: taskData(taskArn, identifier, 'none') };

  const wasRunning = RUNNING_STATES.has(task.status);
  if (task.status === 'running') await stopTask(taskArn);
  logger.info('Modifying DMS replication task', { taskArn, status: task.status, resumeAfterModify: wasRunning });
  return { PhysicalResourceId: taskArn, Data: taskData(taskArn, identifier, 'modify', wasRunning) };
}

export async function onTaskEvent(request: OnEventRequest): Promise<OnEventResponse> {
  if (request.RequestType === 'Delete') {
    const taskArn = request.PhysicalResourceId ?? '';
    const task = isTaskArn(taskArn) ? await describeTask(taskArn) : undefined;
    if (task?.status === 'running') await stopTask(taskArn);
    return {};
  }
  const props = parseTaskProperties(request.ResourceProperties);
  if (request.RequestType === 'Create') return createTask(props, props.identifier);
  return onUpdate(request, props);
}

async function isDeleteComplete(taskArn: string): Promise<IsCompleteResponse> {
  if (!isTaskArn(taskArn)) return { IsComplete: true }; // a Create that failed before a task existed
  const task = await describeTask(taskArn);
  if (task === undefined) {
    logger.info('DMS replication task is gone', { taskArn });
    return { IsComplete: true };
  }
  if (TRANSITIONAL_STATES.has(task.status)) return NOT_COMPLETE;
  if (task.status === 'running') {
    await stopTask(taskArn);
    return NOT_COMPLETE;
  }
  try {
    await dms.send(new DeleteReplicationTaskCommand({ ReplicationTaskArn: taskArn }));
    logger.info('Deleting DMS replication task', { taskArn });
  } catch (error) {
    const name = errorName(error);
    if (name === 'ResourceNotFoundFault') return { IsComplete: true };
    if (name !== 'InvalidResourceStateFault') throw error;
  }
  return NOT_COMPLETE;
}

function isCreateComplete(task: TaskView | undefined, taskArn: string): IsCompleteResponse {
  if (task === undefined) throw new Error(`DMS replication task ${taskArn} disappeared while it was being created`);
  if (task.status === 'failed') {
    throw new Error(
      `DMS replication task ${taskArn} failed to create: ${task.lastFailureMessage ?? 'no failure message'}`,
    );
  }
  if (task.status === 'creating') return NOT_COMPLETE;
  logger.info('DMS replication task is ready', { taskArn, status: task.status });
  return { IsComplete: true };
}

/**
 * Stop → modify → resume, one step per poll. The tag names this request, so a retried poll never
 * repeats a step it already took (a repeated modify would be harmless, a repeated resume is not).
 */
async function isModifyComplete(request: IsCompleteRequest, task: TaskView | undefined): Promise<IsCompleteResponse> {
  const taskArn = request.PhysicalResourceId;
  if (task === undefined) throw new Error(`DMS replication task ${taskArn} disappeared while it was being updated`);
  if (TRANSITIONAL_STATES.has(task.status)) return NOT_COMPLETE;

  const props = parseTaskProperties(request.ResourceProperties);
  const identifier = request.Data?.['TaskIdentifier'] ?? props.identifier;
  const resumeAfterModify = request.Data?.['ResumeAfterModify'] === 'true';
  const modifiedMarker = `${request.RequestId}/modified`;
  const resumedMarker = `${request.RequestId}/resumed`;
  const marker = await readUpdateMarker(taskArn);

  if (marker !== modifiedMarker && marker !== resumedMarker) {
    if (task.status === 'running') {
      await stopTask(taskArn); // started by someone else since onEvent
      return NOT_COMPLETE;
    }
    await dms.send(
      new ModifyReplicationTaskCommand({
        ReplicationTaskArn: taskArn,
        ReplicationTaskIdentifier: identifier,
        TableMappings: props.tableMappings,
        ReplicationTaskSettings: props.replicationTaskSettings,
      }),
    );
    await writeUpdateMarker(taskArn, modifiedMarker);
    logger.info('Modified DMS replication task', { taskArn, previousStatus: task.status });
    return NOT_COMPLETE;
  }
  if (marker === modifiedMarker) {
    if (!resumeAfterModify) return { IsComplete: true };
    if (task.status !== 'running') {
      await dms.send(
        new StartReplicationTaskCommand({ ReplicationTaskArn: taskArn, StartReplicationTaskType: 'resume-processing' }),
      );
      logger.info('Resuming DMS replication task', { taskArn });
    }
    await writeUpdateMarker(taskArn, resumedMarker);
    return NOT_COMPLETE;
  }
  if (task.status === 'running') return { IsComplete: true };
  // The deployment is done; a task that cannot resume raises the DMS failure event that
  // monitoring and remediation act on, which is where this belongs.
  logger.error('DMS replication task did not resume after the update', {
    taskArn,
    status: task.status,
    stopReason: task.stopReason,
    lastFailureMessage: task.lastFailureMessage,
  });
  return { IsComplete: true, Data: { ResumeOutcome: `not running after resume: ${task.status}` } };
}

function readOperation(request: IsCompleteRequest): Operation {
  const operation = request.Data?.['Operation'];
  if (operation !== 'create' && operation !== 'modify' && operation !== 'none') {
    throw new InvalidRequestError(
      `isComplete event Data.Operation is ${JSON.stringify(operation)}; onEvent always sets it`,
    );
  }
  return operation;
}

/** Errors the SDK gave up retrying that a later poll may not see; they must not fail a 2-hour wait. */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalFailure',
  'ServiceUnavailable',
  'TimeoutError',
]);

async function poll(request: IsCompleteRequest): Promise<IsCompleteResponse> {
  if (request.RequestType === 'Delete') return isDeleteComplete(request.PhysicalResourceId);
  const operation = readOperation(request);
  if (operation === 'none') return { IsComplete: true };
  const task = await describeTask(request.PhysicalResourceId);
  if (operation === 'create') return isCreateComplete(task, request.PhysicalResourceId);
  return isModifyComplete(request, task);
}

export async function isTaskComplete(request: IsCompleteRequest): Promise<IsCompleteResponse> {
  try {
    return await poll(request);
  } catch (error) {
    if (!TRANSIENT_ERRORS.has(errorName(error))) throw error;
    logger.warn('Transient DMS error; polling again', { error: describeError(error) });
    return NOT_COMPLETE;
  }
}
