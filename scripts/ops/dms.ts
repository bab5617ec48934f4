/**
 * `dms start|stop|resume`: the explicit operator step that starts replication (the smoke test never
 * does, ADR 0008). The plan is pure: which call, if any, a verb means for the task's current status.
 */
import {
  DescribeReplicationTasksCommand,
  StartReplicationTaskCommand,
  StopReplicationTaskCommand,
  type ReplicationTask,
} from '@aws-sdk/client-database-migration-service';
import type { DmsVerb } from './args';
import type { OpsClients } from './clients';
import { explainFailure, OpsError } from './errors';

export type DmsPlan =
  | { readonly call: 'start'; readonly startType: 'start-replication' | 'resume-processing'; readonly summary: string }
  | { readonly call: 'stop'; readonly summary: string }
  | { readonly call: 'none'; readonly reason: string };

const TRANSIENT = new Set([
  'creating',
  'starting',
  'resuming',
  'modifying',
  'stopping',
  'testing',
  'moving',
  'deleting',
]);

export function planDms(verb: DmsVerb, status: string): DmsPlan {
  if (TRANSIENT.has(status))
    return { call: 'none', reason: `the task is ${status}; wait until DMS finishes and retry` };
  switch (verb) {
    case 'start':
      if (status === 'ready') {
        return { call: 'start', startType: 'start-replication', summary: 'first start: full load, then CDC' };
      }
      if (status === 'stopped' || status === 'failed') {
        return {
          call: 'none',
          reason: `the task is ${status} and has run before; 'dms resume' continues from its checkpoint (start-replication is only for a first run)`,
        };
      }
      return { call: 'none', reason: `the task is already ${status}` };
    case 'resume':
      if (status === 'stopped' || status === 'failed') {
        return { call: 'start', startType: 'resume-processing', summary: 'resume from the checkpoint' };
      }
      if (status === 'ready') return { call: 'none', reason: "the task has never run; use 'dms start'" };
      return { call: 'none', reason: `the task is already ${status}` };
    case 'stop':
      if (status === 'running') return { call: 'stop', summary: 'stop replication (CDC pauses; resume later)' };
      return { call: 'none', reason: `the task is ${status}, not running` };
  }
}

export async function describeTask(clients: OpsClients, taskArn: string): Promise<ReplicationTask> {
  try {
    const out = await clients.dms.send(
      new DescribeReplicationTasksCommand({
        Filters: [{ Name: 'replication-task-arn', Values: [taskArn] }],
        WithoutSettings: true,
      }),
    );
    const task = out.ReplicationTasks?.[0];
    if (task) return task;
  } catch (e) {
    if (!(e instanceof Error && e.name === 'ResourceNotFoundFault')) {
      throw new OpsError(explainFailure(e, `describing DMS task ${taskArn}`));
    }
  }
  throw new OpsError(`DMS task ${taskArn} (from the stage's SSM parameter) does not exist; is the Dms stack deployed?`);
}

export async function carryOut(clients: OpsClients, taskArn: string, plan: DmsPlan): Promise<string> {
  try {
    if (plan.call === 'start') {
      const out = await clients.dms.send(
        new StartReplicationTaskCommand({ ReplicationTaskArn: taskArn, StartReplicationTaskType: plan.startType }),
      );
      return `${plan.startType} requested; task is ${out.ReplicationTask?.Status ?? 'starting'}`;
    }
    if (plan.call === 'stop') {
      const out = await clients.dms.send(new StopReplicationTaskCommand({ ReplicationTaskArn: taskArn }));
      return `stop requested; task is ${out.ReplicationTask?.Status ?? 'stopping'}`;
    }
    return `nothing to do: ${plan.reason}`;
  } catch (e) {
    throw new OpsError(explainFailure(e, `changing DMS task ${taskArn}`));
  }
}
