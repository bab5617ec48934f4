import {
  AddTagsToResourceCommand,
  DatabaseMigrationServiceClient,
  DescribeReplicationTasksCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-database-migration-service';
import { errorName } from '../shared/custom-resource';

/** One client per container; tests replace it with aws-sdk-client-mock. */
export const dms = new DatabaseMigrationServiceClient({});

/**
 * Task states (DMS API ReplicationTask.Status). "resuming" is not documented but is treated as the
 * transition it would be.
 */
export const RUNNING_STATES: ReadonlySet<string> = new Set(['running', 'starting', 'resuming']);
/** States that end by themselves; a poll only waits. */
export const TRANSITIONAL_STATES: ReadonlySet<string> = new Set([
  'creating',
  'modifying',
  'stopping',
  'starting',
  'resuming',
  'deleting',
  'moving',
  'testing',
]);

export interface TaskView {
  readonly arn: string;
  readonly identifier: string;
  readonly status: string;
  readonly stopReason?: string;
  readonly lastFailureMessage?: string;
}

const TASK_ARN_PATTERN = /^arn:aws[a-z-]*:dms:[a-z0-9-]+:\d{12}:task:[A-Z0-9]+$/;

export function isTaskArn(value: string): boolean {
  return TASK_ARN_PATTERN.test(value);
}

/** `arn:aws:dms:region:account:task:ABC…` → `ABC…`, the id CloudWatch metrics and events use. */
export function taskResourceId(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf(':') + 1);
}

/** The task, or undefined when DMS does not know it (DMS answers a filter without match with a fault). */
export async function describeTask(taskArn: string): Promise<TaskView | undefined> {
  try {
    const out = await dms.send(
      new DescribeReplicationTasksCommand({
        Filters: [{ Name: 'replication-task-arn', Values: [taskArn] }],
        WithoutSettings: true,
      }),
    );
    const task = out.ReplicationTasks?.find((t) => t.ReplicationTaskArn === taskArn);
    if (!task) return undefined;
    return {
      arn: taskArn,
      identifier: task.ReplicationTaskIdentifier ?? '',
      status: task.Status ?? 'unknown',
      ...(task.StopReason ? { stopReason: task.StopReason } : {}),
      ...(task.LastFailureMessage ? { lastFailureMessage: task.LastFailureMessage } : {}),
    };
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundFault') return undefined;
    throw error;
  }
}

/**
 * isComplete is polled with the same event every time, so progress through stop → modify → resume
 * is remembered on the task itself, as a tag naming the CloudFormation request and its last step.
 */
export const UPDATE_MARKER_TAG = 'ManagedTaskUpdate';

export async function readUpdateMarker(taskArn: string): Promise<string | undefined> {
  const out = await dms.send(new ListTagsForResourceCommand({ ResourceArn: taskArn }));
  return out.TagList?.find((t) => t.Key === UPDATE_MARKER_TAG)?.Value;
}

export async function writeUpdateMarker(taskArn: string, value: string): Promise<void> {
  await dms.send(
    new AddTagsToResourceCommand({ ResourceArn: taskArn, Tags: [{ Key: UPDATE_MARKER_TAG, Value: value }] }),
  );
}
