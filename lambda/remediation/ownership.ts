import type { Action } from './classify';
import type { RemediationConfig } from './config';

/** Whether an action's resource belongs to this stage, and if not, why. */
export type Ownership = { own: true } | { own: false; reason: string; resource: Record<string, string> };

export interface OwnershipDeps {
  /** The stage's current replication task ARN (read from its SSM parameter only when needed). */
  currentTaskArn: () => Promise<string>;
}

/**
 * Remediation acts only on the stage's own Glue job, DMS task or replication config, workflow and
 * data bucket. The EventBridge rules and the subscription filter already scope the events and IAM
 * often refuses the rest, but neither is the handler's guarantee: an event from a wider rule, a
 * replayed archive or a hand-made test event must be skipped here, before any claim, call or alert.
 * Exact comparisons only: a prefix or substring match would accept `job-2` for `job`.
 */
export async function ownership(
  action: Exclude<Action, { type: 'ignore' }>,
  config: RemediationConfig,
  deps: OwnershipDeps,
): Promise<Ownership> {
  switch (action.type) {
    case 'retry-glue-job':
      return action.jobName === config.glueJobName
        ? { own: true }
        : foreign(`Glue job ${action.jobName} is not the stage's validation job ${config.glueJobName}`, {
            jobName: action.jobName,
          });
    case 'recover-dms': {
      if (action.target === 'replication-config') {
        return config.replicationConfigArn !== undefined && action.arn === config.replicationConfigArn
          ? { own: true }
          : foreign(
              config.replicationConfigArn === undefined
                ? `the stage has no DMS Serverless replication; ${action.arn} is not its own`
                : `replication config ${action.arn} is not the stage's ${config.replicationConfigArn}`,
              { replicationConfigArn: action.arn },
            );
      }
      // Always the parameter, never the ARN of this function's deployment: after a replacement the
      // old task may still exist (removal RETAIN keeps it running) and is no longer the stage's.
      const current = await deps.currentTaskArn();
      return action.arn === current
        ? { own: true }
        : foreign(`DMS task ${action.arn} is not the stage's replication task ${current}`, {
            replicationTaskArn: action.arn,
          });
    }
    case 'retry-execution':
    case 'alert-aborted-execution':
      return action.stateMachineArn === config.stateMachineArn
        ? { own: true }
        : foreign(`state machine ${action.stateMachineArn} is not the stage's workflow ${config.stateMachineArn}`, {
            stateMachineArn: action.stateMachineArn,
            executionArn: action.executionArn,
          });
    case 'alert-validation-failure':
      return action.result.bucket === config.dataBucketName
        ? { own: true }
        : foreign(`validation result for bucket ${action.result.bucket}, not the stage's ${config.dataBucketName}`, {
            bucket: action.result.bucket,
            key: action.result.key,
          });
  }
}

function foreign(reason: string, resource: Record<string, string>): Ownership {
  return { own: false, reason, resource };
}
