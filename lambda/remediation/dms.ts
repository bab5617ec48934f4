import { createHash } from 'node:crypto';
import {
  DescribeReplicationsCommand,
  DescribeReplicationTasksCommand,
  StartReplicationCommand,
  StartReplicationTaskCommand,
} from '@aws-sdk/client-database-migration-service';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { cloudWatchLogsUrl } from '../shared/console-links';
import { hasErrorName } from '../shared/errors';
import { logger, metrics } from '../shared/powertools';
import type { Action } from './classify';
import { dms } from './clients';
import { DMS_ATTEMPT_WINDOW_SECONDS, type Outcome, type RemediationContext, sendAlert, sendAlertOnce } from './context';
import { classifyDmsFailure } from './dms-failure';

type DmsAction = Extract<Action, { type: 'recover-dms' }>;

/**
 * The only start types remediation uses. `start-replication` is deliberately absent: it is valid only for a
 * task's first run, and a task that failed has run before.
 */
export type RecoveryStartType = 'resume-processing' | 'reload-target';

interface ReplicationState {
  status: string;
  stopReason?: string;
  lastFailureMessage?: string;
}

/** Classic tasks and DMS Serverless replications differ only in which API describes and starts them. */
interface DmsTarget {
  describe(): Promise<ReplicationState | undefined>;
  start(type: RecoveryStartType): Promise<void>;
}

/**
 * The Describe* calls answer a filter that matches nothing with ResourceNotFoundFault, not an empty list;
 * both mean the resource is gone.
 */
async function unlessNotFound<T>(describe: () => Promise<T>): Promise<T | undefined> {
  try {
    return await describe();
  } catch (error) {
    if (hasErrorName(error, 'ResourceNotFoundFault')) return undefined;
    throw error;
  }
}

function classicTask(taskArn: string): DmsTarget {
  return {
    async describe() {
      const out = await unlessNotFound(() =>
        dms.send(
          new DescribeReplicationTasksCommand({
            Filters: [{ Name: 'replication-task-arn', Values: [taskArn] }],
            WithoutSettings: true,
          }),
        ),
      );
      const task = out?.ReplicationTasks?.[0];
      if (task === undefined) return undefined;
      return {
        status: task.Status ?? 'unknown',
        stopReason: task.StopReason,
        lastFailureMessage: task.LastFailureMessage,
      };
    },
    async start(type) {
      await dms.send(new StartReplicationTaskCommand({ ReplicationTaskArn: taskArn, StartReplicationTaskType: type }));
    },
  };
}

function serverlessReplication(replicationConfigArn: string): DmsTarget {
  return {
    async describe() {
      const out = await unlessNotFound(() =>
        dms.send(
          new DescribeReplicationsCommand({
            Filters: [{ Name: 'replication-config-arn', Values: [replicationConfigArn] }],
          }),
        ),
      );
      const replication = out?.Replications?.[0];
      if (replication === undefined) return undefined;
      const failures = replication.FailureMessages ?? [];
      return {
        status: replication.Status ?? 'unknown',
        stopReason: replication.StopReason,
        lastFailureMessage: failures.length > 0 ? failures.join(' | ') : undefined,
      };
    },
    async start(type) {
      await dms.send(
        new StartReplicationCommand({ ReplicationConfigArn: replicationConfigArn, StartReplicationType: type }),
      );
    },
  };
}

/** A task in need of recovery has failed, or stopped because of an error; anything else is left alone. */
function needsRecovery(state: ReplicationState): boolean {
  const status = state.status.toLowerCase();
  if (status === 'failed') return true;
  return status === 'stopped' && /error/i.test(state.stopReason ?? '');
}

const hashOf = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * A failed DMS task or serverless replication: resume it from its checkpoint when the failure is transient
 * (bounded per day); when the checkpoint is gone, reload the target only if ALLOW_RELOAD_TARGET says so
 * (a reload is a new full load), otherwise alert once as unrecoverable with the last failure message.
 */
export async function remediateDms(action: DmsAction, ctx: RemediationContext): Promise<Outcome> {
  const { config } = ctx;
  const target = action.target === 'task' ? classicTask(action.arn) : serverlessReplication(action.arn);
  const resourceName = action.target === 'task' ? 'replicationTaskArn' : 'replicationConfigArn';
  const links: Record<string, string> = {
    ...(action.resourceLink === undefined ? {} : { console: action.resourceLink }),
    ...(config.dmsLogGroup === undefined ? {} : { logs: cloudWatchLogsUrl(config.region, config.dmsLogGroup) }),
  };

  const state = await target.describe();
  if (state === undefined) {
    await sendAlert(ctx, {
      type: 'dms-resource-not-found',
      title: `DMS ${action.target} failed and can no longer be found`,
      summary: `A ${action.eventType} event arrived for a DMS ${action.target} that DescribeReplication${action.target === 'task' ? 'Tasks' : 's'} does not return; nothing was restarted.`,
      resource: { [resourceName]: action.arn },
      attempts: 0,
      maxAttempts: config.maxAttempts,
      lastError: action.detailMessage,
      links,
    });
    return { result: 'alerted', detail: { reason: 'not found' } };
  }
  if (!needsRecovery(state)) {
    logger.info('DMS replication does not need recovery', {
      [resourceName]: action.arn,
      status: state.status,
      stopReason: state.stopReason,
    });
    return { result: 'ignored', detail: { status: state.status } };
  }

  const lastFailure =
    state.lastFailureMessage ??
    action.detailMessage ??
    `status ${state.status}, ${state.stopReason ?? 'no stop reason'}`;
  const kind = classifyDmsFailure(lastFailure);
  logger.info('Classified DMS failure', { [resourceName]: action.arn, kind, lastFailure });

  if (kind === 'permanent' || (kind === 'checkpoint-lost' && !config.allowReloadTarget)) {
    const why =
      kind === 'permanent'
        ? 'The failure is a configuration or credentials problem; restarting cannot fix it.'
        : 'The source position the task would resume from no longer exists, so resume-processing cannot succeed, and ALLOW_RELOAD_TARGET is not enabled. Recover by hand: reload the target, or restart CDC from a known time with CdcStartTime.';
    return sendAlertOnce(ctx, `dms#${action.arn}#${hashOf(lastFailure)}`, {
      type: kind === 'permanent' ? 'dms-unrecoverable-configuration' : 'dms-unrecoverable-checkpoint-lost',
      title: `DMS ${action.target} failed and cannot be recovered automatically`,
      summary: why,
      resource: { [resourceName]: action.arn, status: state.status, stopReason: state.stopReason ?? 'n/a' },
      attempts: 0,
      maxAttempts: config.maxAttempts,
      lastError: lastFailure,
      links,
    });
  }

  const startType: RecoveryStartType = kind === 'checkpoint-lost' ? 'reload-target' : 'resume-processing';
  const attempt = await ctx.state.bumpWindowedCounter(`dms-attempts#${action.arn}`, {
    now: ctx.invocation.now(),
    windowSeconds: DMS_ATTEMPT_WINDOW_SECONDS,
  });
  if (attempt > config.maxAttempts) {
    return sendAlertOnce(ctx, `dms-bound#${action.arn}#${hashOf(lastFailure)}`, {
      type: 'dms-retries-exhausted',
      title: `DMS ${action.target} keeps failing after ${config.maxAttempts} automatic ${startType} attempts`,
      summary: `Automatic recovery (${startType}) was tried ${config.maxAttempts} times in the last 24 hours and the ${action.target} failed again; it is left stopped for a person to look at.`,
      resource: { [resourceName]: action.arn, status: state.status, stopReason: state.stopReason ?? 'n/a' },
      attempts: attempt - 1,
      maxAttempts: config.maxAttempts,
      lastError: lastFailure,
      links,
    });
  }

  try {
    await target.start(startType);
  } catch (error) {
    // Someone (or DMS itself) started it between our describe and our start: that is the outcome we wanted.
    if (hasErrorName(error, 'InvalidResourceStateFault')) {
      logger.info('DMS replication is already starting or running', { [resourceName]: action.arn });
      return { result: 'ignored', detail: { reason: 'already running' } };
    }
    throw error;
  }
  logger.info('Restarted DMS replication', {
    [resourceName]: action.arn,
    startType,
    attempt,
    maxAttempts: config.maxAttempts,
  });
  metrics.addMetric('DmsRecoveriesStarted', MetricUnit.Count, 1);
  return { result: startType === 'reload-target' ? 'reloaded' : 'resumed', detail: { startType, attempt } };
}
