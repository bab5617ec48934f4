import {
  CreateLocationNfsCommand,
  CreateLocationSmbCommand,
  CreateTaskCommand,
  DeleteLocationCommand,
  DeleteTaskCommand,
  Options,
  TaskSchedule,
  UpdateTaskCommand,
} from '@aws-sdk/client-datasync';
import {
  describeError,
  InvalidRequestError,
  IsCompleteResponse,
  OnEventRequest,
  OnEventResponse,
  optionalString,
  requireObject,
  requireString,
  ResourceProperties,
  ResponseData,
} from '../shared/custom-resource';
import { logger } from '../shared/powertools';
import { datasync, isNotFound } from './datasync';
import {
  stackSelector,
  TransferContext,
  transferFailedInstructions,
  transferReadyInstructions,
  transferUpdateFailedInstructions,
  waitingForAgentInstructions,
} from './instructions';
import { readSmbPassword } from './smb-password';
import type { NfsOrSmb } from '../../lib/config/environment-config';

/**
 * `Custom::DataSyncTransfer`: the on-premises source location and the task that copies it to the
 * S3 location, created once `Custom::DataSyncAgent` reports an agent. It is a resource of its own
 * so that replacing the location or task (new share, new destination, new agent) never touches the
 * agent, and deleting the stack removes task and location before the agent.
 *
 * Physical id: `<location ARN>|<task ARN>` once created, `not-created` otherwise (no agent yet, or
 * creation failed). Failures are reported in SetupInstructions, not thrown.
 */
export const TRANSFER_RESOURCE_TYPE = 'Custom::DataSyncTransfer';

export const NOT_CREATED = 'not-created';

/**
 * Verify what was transferred, log every transferred file, copy only what changed, never delete at
 * the destination what disappeared at the source (the audit trail keeps it).
 */
export const TASK_OPTIONS: Options = {
  VerifyMode: 'ONLY_FILES_TRANSFERRED',
  LogLevel: 'TRANSFER',
  OverwriteMode: 'ALWAYS',
  TransferMode: 'CHANGED',
  PreserveDeletedFiles: 'PRESERVE',
};

/** The share as configured (`dataSync.source`), passed through the custom resource's properties. */
export type SourceShare = NfsOrSmb;

export interface TransferProperties {
  /** Empty while the agent is not activated. */
  readonly agentArn?: string;
  readonly source: SourceShare;
  readonly destinationLocationArn: string;
  readonly cloudWatchLogGroupArn: string;
  readonly taskName: string;
  readonly scheduleExpression?: string;
  readonly activationAttempt: string;
}

export interface TransferIds {
  readonly sourceLocationArn: string;
  readonly taskArn: string;
}

export function parseSource(properties: ResourceProperties): SourceShare {
  const source = requireObject(properties, 'Source');
  const where = 'ResourceProperties.Source';
  const protocol = requireString(source, 'Protocol', where);
  const serverHostname = requireString(source, 'ServerHostname', where);
  const subdirectory = requireString(source, 'Subdirectory', where);
  if (protocol === 'NFS') return { protocol, serverHostname, subdirectory };
  if (protocol === 'SMB') {
    const domain = optionalString(source, 'Domain', where);
    return {
      protocol,
      serverHostname,
      subdirectory,
      user: requireString(source, 'User', where),
      ...(domain !== undefined ? { domain } : {}),
      passwordSecretArn: requireString(source, 'PasswordSecretArn', where),
    };
  }
  throw new InvalidRequestError(`${where}.Protocol is ${JSON.stringify(protocol)}; expected NFS or SMB`);
}

export function parseTransferProperties(properties: ResourceProperties): TransferProperties {
  const agentArn = optionalString(properties, 'AgentArn');
  const scheduleExpression = optionalString(properties, 'ScheduleExpression');
  return {
    ...(agentArn !== undefined ? { agentArn } : {}),
    source: parseSource(properties),
    destinationLocationArn: requireString(properties, 'DestinationLocationArn'),
    cloudWatchLogGroupArn: requireString(properties, 'CloudWatchLogGroupArn'),
    taskName: requireString(properties, 'TaskName'),
    ...(scheduleExpression !== undefined ? { scheduleExpression } : {}),
    activationAttempt: optionalString(properties, 'ActivationAttempt') ?? '0',
  };
}

export function encodeTransferIds(ids: TransferIds | undefined): string {
  return ids ? `${ids.sourceLocationArn}|${ids.taskArn}` : NOT_CREATED;
}

export function decodeTransferIds(physicalId: string): TransferIds | undefined {
  const [sourceLocationArn, taskArn, ...rest] = physicalId.split('|');
  if (rest.length > 0 || !sourceLocationArn?.startsWith('arn:') || !taskArn?.startsWith('arn:')) return undefined;
  return { sourceLocationArn, taskArn };
}

export function sourceUri(source: SourceShare): string {
  const path = source.subdirectory.startsWith('/') ? source.subdirectory : `/${source.subdirectory}`;
  return `${source.protocol.toLowerCase()}://${source.serverHostname}${path}`;
}

/** Changes that an UpdateTask cannot express: they need a new location and task. */
export function needsNewTransfer(previous: TransferProperties, next: TransferProperties): boolean {
  return (
    previous.agentArn !== next.agentArn ||
    previous.destinationLocationArn !== next.destinationLocationArn ||
    JSON.stringify(previous.source) !== JSON.stringify(next.source)
  );
}

function transferContext(request: OnEventRequest, props: TransferProperties): TransferContext {
  return {
    stackName: stackSelector(request.ResourceProperties, request.StackId),
    activationAttempt: props.activationAttempt,
    sourceUri: sourceUri(props.source),
    ...(props.scheduleExpression !== undefined ? { scheduleExpression: props.scheduleExpression } : {}),
  };
}

async function createLocation(source: SourceShare, agentArn: string): Promise<string> {
  if (source.protocol === 'NFS') {
    const out = await datasync.send(
      new CreateLocationNfsCommand({
        ServerHostname: source.serverHostname,
        Subdirectory: source.subdirectory,
        OnPremConfig: { AgentArns: [agentArn] },
      }),
    );
    if (!out.LocationArn) throw new Error('CreateLocationNfs returned no LocationArn');
    return out.LocationArn;
  }
  const out = await datasync.send(
    new CreateLocationSmbCommand({
      ServerHostname: source.serverHostname,
      Subdirectory: source.subdirectory,
      User: source.user,
      ...(source.domain !== undefined ? { Domain: source.domain } : {}),
      Password: await readSmbPassword(source.passwordSecretArn),
      AgentArns: [agentArn],
    }),
  );
  if (!out.LocationArn) throw new Error('CreateLocationSmb returned no LocationArn');
  return out.LocationArn;
}

async function createTask(props: TransferProperties, sourceLocationArn: string): Promise<string> {
  const out = await datasync.send(
    new CreateTaskCommand({
      Name: props.taskName,
      SourceLocationArn: sourceLocationArn,
      DestinationLocationArn: props.destinationLocationArn,
      CloudWatchLogGroupArn: props.cloudWatchLogGroupArn,
      Options: TASK_OPTIONS,
      ...(props.scheduleExpression !== undefined ? { Schedule: { ScheduleExpression: props.scheduleExpression } } : {}),
    }),
  );
  if (!out.TaskArn) throw new Error('CreateTask returned no TaskArn');
  return out.TaskArn;
}

/** Best effort, never throws: used on Delete (a stuck delete blocks the stack) and for rollback. */
async function deleteQuietly(kind: 'task' | 'location', arn: string): Promise<void> {
  try {
    if (kind === 'task') await datasync.send(new DeleteTaskCommand({ TaskArn: arn }));
    else await datasync.send(new DeleteLocationCommand({ LocationArn: arn }));
    logger.info(`Deleted DataSync ${kind}`, { arn });
  } catch (error) {
    if (isNotFound(error)) {
      logger.info(`DataSync ${kind} already gone`, { arn });
    } else {
      logger.error(`Could not delete DataSync ${kind}; delete it by hand`, { arn, error: describeError(error) });
    }
  }
}

async function deleteTransfer(ids: TransferIds): Promise<void> {
  // A location cannot be deleted while a task uses it.
  await deleteQuietly('task', ids.taskArn);
  await deleteQuietly('location', ids.sourceLocationArn);
}

function data(status: string, ids: TransferIds | undefined, instructions: string): ResponseData {
  return {
    TransferStatus: status,
    SourceLocationArn: ids?.sourceLocationArn ?? '',
    TaskArn: ids?.taskArn ?? '',
    SetupInstructions: instructions,
  };
}

async function createTransfer(
  request: OnEventRequest,
  props: TransferProperties,
  agentArn: string,
): Promise<OnEventResponse> {
  const ctx = transferContext(request, props);
  let sourceLocationArn: string;
  try {
    sourceLocationArn = await createLocation(props.source, agentArn);
  } catch (error) {
    logger.error('Creating the DataSync source location failed', {
      source: ctx.sourceUri,
      error: describeError(error),
    });
    return {
      PhysicalResourceId: NOT_CREATED,
      Data: data(
        'FAILED',
        undefined,
        transferFailedInstructions(ctx, `Creating the source location ${ctx.sourceUri}`, describeError(error)),
      ),
    };
  }
  try {
    const taskArn = await createTask(props, sourceLocationArn);
    const ids = { sourceLocationArn, taskArn };
    logger.info('Created DataSync source location and task', { ...ids });
    return {
      PhysicalResourceId: encodeTransferIds(ids),
      Data: data('READY', ids, transferReadyInstructions(ctx, taskArn)),
    };
  } catch (error) {
    logger.error('Creating the DataSync task failed', { sourceLocationArn, error: describeError(error) });
    await deleteQuietly('location', sourceLocationArn);
    return {
      PhysicalResourceId: NOT_CREATED,
      Data: data(
        'FAILED',
        undefined,
        transferFailedInstructions(ctx, 'Creating the DataSync task', describeError(error)),
      ),
    };
  }
}

async function updateTask(
  request: OnEventRequest,
  previous: TransferProperties,
  props: TransferProperties,
  ids: TransferIds,
): Promise<OnEventResponse> {
  const ctx = transferContext(request, props);
  // An absent schedule is removed with an empty expression; send one only when there was a schedule.
  const schedule: TaskSchedule | undefined =
    props.scheduleExpression !== undefined
      ? { ScheduleExpression: props.scheduleExpression }
      : previous.scheduleExpression !== undefined
        ? { ScheduleExpression: '' }
        : undefined;
  try {
    await datasync.send(
      new UpdateTaskCommand({
        TaskArn: ids.taskArn,
        Name: props.taskName,
        Options: TASK_OPTIONS,
        CloudWatchLogGroupArn: props.cloudWatchLogGroupArn,
        ...(schedule !== undefined ? { Schedule: schedule } : {}),
      }),
    );
    logger.info('Updated DataSync task', { taskArn: ids.taskArn });
    return {
      PhysicalResourceId: encodeTransferIds(ids),
      Data: data('READY', ids, transferReadyInstructions(ctx, ids.taskArn)),
    };
  } catch (error) {
    logger.error('Updating the DataSync task failed', { taskArn: ids.taskArn, error: describeError(error) });
    return {
      PhysicalResourceId: encodeTransferIds(ids),
      Data: data('UPDATE_FAILED', ids, transferUpdateFailedInstructions(ctx, ids.taskArn, describeError(error))),
    };
  }
}

/** Properties written by an older construct version may not parse; then the transfer is rebuilt. */
function parseOldProperties(properties: ResourceProperties): TransferProperties | undefined {
  try {
    return parseTransferProperties(properties);
  } catch (error) {
    if (error instanceof InvalidRequestError) return undefined;
    throw error;
  }
}

export async function onTransferEvent(request: OnEventRequest): Promise<OnEventResponse> {
  if (request.RequestType === 'Delete') {
    const ids = decodeTransferIds(request.PhysicalResourceId ?? '');
    if (ids) await deleteTransfer(ids);
    else logger.info('No DataSync location or task to delete', { physicalResourceId: request.PhysicalResourceId });
    return {};
  }
  const props = parseTransferProperties(request.ResourceProperties);
  if (props.agentArn === undefined) {
    // Replacing a created transfer with NOT_CREATED lets CloudFormation delete the old one: it
    // belonged to an agent that no longer exists.
    return {
      PhysicalResourceId: NOT_CREATED,
      Data: data('WAITING_FOR_AGENT', undefined, waitingForAgentInstructions(transferContext(request, props))),
    };
  }
  if (request.RequestType === 'Update' && request.OldResourceProperties !== undefined) {
    const ids = decodeTransferIds(request.PhysicalResourceId ?? '');
    const previous = parseOldProperties(request.OldResourceProperties);
    if (ids && previous && !needsNewTransfer(previous, props)) return updateTask(request, previous, props, ids);
  }
  // Create, or a replacement: a new id makes CloudFormation delete the old location and task afterwards.
  return createTransfer(request, props, props.agentArn);
}

/** Everything happens in onEvent; the Provider still asks, because the agent resource needs polling. */
export function isTransferComplete(): IsCompleteResponse {
  return { IsComplete: true };
}
