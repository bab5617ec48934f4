import { parseValidationNotification, type RemediationEvent, type ValidationResult } from '../shared/events';

/**
 * What remediation will do about one incoming event. `dedupeId` identifies the delivery: EventBridge keeps
 * an event's `id` across redeliveries and SNS keeps its MessageId, so a repeat is recognised and skipped.
 */
export type Action =
  | {
      type: 'retry-glue-job';
      dedupeId: string;
      jobName: string;
      jobRunId: string;
      state: 'FAILED' | 'TIMEOUT';
      message?: string;
    }
  | {
      type: 'recover-dms';
      dedupeId: string;
      /** Classic replication task, or a DMS Serverless replication config. */
      target: 'task' | 'replication-config';
      arn: string;
      eventType: string;
      detailMessage?: string;
      resourceLink?: string;
    }
  | {
      type: 'retry-execution';
      dedupeId: string;
      executionArn: string;
      stateMachineArn: string;
      status: 'FAILED' | 'TIMED_OUT';
      error?: string;
      cause?: string;
    }
  | { type: 'alert-aborted-execution'; dedupeId: string; executionArn: string; stateMachineArn: string }
  | { type: 'alert-validation-failure'; dedupeId: string; result: ValidationResult }
  | { type: 'ignore'; reason: string };

/**
 * Sorts an event into actions, and only failures into anything but `ignore`. Remediation must never act on
 * a state that is not a failure: a planned stop that triggers an automatic restart fights the operator who
 * stopped it. Pure: no AWS calls, so every branch is tested with documented sample events.
 */
export function classify(input: RemediationEvent): Action[] {
  switch (input.kind) {
    case 'glue-job-state-change': {
      const { detail, id } = input.event;
      // Glue emits SUCCEEDED, FAILED, TIMEOUT and STOPPED for jobs; STOPPED is someone's BatchStopJobRun.
      if (detail.state !== 'FAILED' && detail.state !== 'TIMEOUT') {
        return [{ type: 'ignore', reason: `Glue job run ${detail.jobRunId} is ${detail.state}, not a failure` }];
      }
      return [
        {
          type: 'retry-glue-job',
          dedupeId: `event#${id}`,
          jobName: detail.jobName,
          jobRunId: detail.jobRunId,
          state: detail.state,
          message: detail.message,
        },
      ];
    }
    case 'dms-replication-task-state-change': {
      const { detail, id } = input.event;
      // REPLICATION_TASK_STOPPED is a stop (planned, or the end of a full load), not a failure.
      if (detail.eventType !== 'REPLICATION_TASK_FAILED') {
        return [{ type: 'ignore', reason: `DMS task event ${detail.eventType} is not a failure` }];
      }
      return [
        {
          type: 'recover-dms',
          dedupeId: `event#${id}`,
          target: 'task',
          arn: input.taskArn,
          eventType: detail.eventType,
          detailMessage: detail.detailMessage,
          resourceLink: detail.resourceLink,
        },
      ];
    }
    case 'dms-replication-state-change': {
      const { detail, id } = input.event;
      // DMS Serverless reports a failure as REPLICATION_FAILED under its own detail-type, never as a task event.
      if (detail.eventType !== 'REPLICATION_FAILED') {
        return [{ type: 'ignore', reason: `DMS replication event ${detail.eventType} is not a failure` }];
      }
      return [
        {
          type: 'recover-dms',
          dedupeId: `event#${id}`,
          target: 'replication-config',
          arn: input.replicationConfigArn,
          eventType: detail.eventType,
          detailMessage: detail.detailMessage,
          resourceLink: detail.resourceLink,
        },
      ];
    }
    case 'sfn-execution-status-change': {
      const { detail, id } = input.event;
      if (detail.status === 'FAILED' || detail.status === 'TIMED_OUT') {
        return [
          {
            type: 'retry-execution',
            dedupeId: `event#${id}`,
            executionArn: detail.executionArn,
            stateMachineArn: detail.stateMachineArn,
            status: detail.status,
            error: detail.error,
            cause: detail.cause,
          },
        ];
      }
      // ABORTED means StopExecution was called: a decision, not a fault. Redriving it would overrule
      // whoever stopped it, so it is reported and left alone.
      if (detail.status === 'ABORTED') {
        return [
          {
            type: 'alert-aborted-execution',
            dedupeId: `event#${id}`,
            executionArn: detail.executionArn,
            stateMachineArn: detail.stateMachineArn,
          },
        ];
      }
      return [{ type: 'ignore', reason: `Execution ${detail.name} is ${detail.status}, not a failure` }];
    }
    case 'validation-notifications':
      return input.notifications.map((notification): Action => {
        if (notification.attributes.status !== undefined && notification.attributes.status !== 'FAILED') {
          return {
            type: 'ignore',
            reason: `validation result ${notification.messageId} has status ${notification.attributes.status}`,
          };
        }
        const result = parseValidationNotification(notification);
        if (result.status !== 'FAILED') {
          return { type: 'ignore', reason: `validation result ${notification.messageId} has status ${result.status}` };
        }
        return { type: 'alert-validation-failure', dedupeId: `sns#${notification.messageId}`, result };
      });
    case 'other-eventbridge-event':
      return [{ type: 'ignore', reason: `no remediation for ${input.source} "${input.detailType}" events` }];
  }
}
