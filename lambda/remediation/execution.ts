import { createHash } from 'node:crypto';
import {
  type DescribeExecutionCommandOutput,
  DescribeExecutionCommand,
  RedriveExecutionCommand,
} from '@aws-sdk/client-sfn';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { cloudWatchLogsUrl, stepFunctionsExecutionUrl } from '../shared/console-links';
import { hasErrorName } from '../shared/errors';
import { isRecord } from '../shared/events';
import { logger, metrics } from '../shared/powertools';
import type { Action } from './classify';
import { sfn } from './clients';
import { type Outcome, type RemediationContext, sendAlert } from './context';

type RedriveAction = Extract<Action, { type: 'redrive-execution' }>;
type AbortedAction = Extract<Action, { type: 'alert-aborted-execution' }>;

/** The orchestration's input carries the correlation id the Step Functions trigger gave it. */
function correlationIdOf(input: string | undefined): string | undefined {
  if (input === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(input);
    return isRecord(parsed) && typeof parsed.correlationId === 'string' ? parsed.correlationId : undefined;
  } catch {
    return undefined;
  }
}

function links(ctx: RemediationContext, executionArn: string): Record<string, string> {
  const { config } = ctx;
  return {
    execution: stepFunctionsExecutionUrl(config.region, executionArn),
    ...(config.stateMachineLogGroup === undefined
      ? {}
      : { logs: cloudWatchLogsUrl(config.region, config.stateMachineLogGroup) }),
  };
}

/** Same execution and redrive number, same token: a repeated redrive request within 15 minutes is a no-op. */
function redriveToken(executionArn: string, redriveCount: number): string {
  return createHash('sha256').update(`${executionArn}#${redriveCount}`).digest('hex');
}

async function describe(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

/**
 * A FAILED or TIMED_OUT orchestration: redrive it from the failed state while Step Functions says it is
 * redrivable (Standard workflow, within 14 days) and it has been redriven fewer than MAX_ATTEMPTS times.
 * The execution's own redriveCount is the attempt counter, so nothing else needs recording.
 */
export async function remediateExecution(action: RedriveAction, ctx: RemediationContext): Promise<Outcome> {
  const { config } = ctx;
  const execution = await describe(action.executionArn);
  const correlationId = correlationIdOf(execution.input);
  if (correlationId !== undefined) logger.appendKeys({ correlationId });
  const status = execution.status ?? 'UNKNOWN';
  if (status !== 'FAILED' && status !== 'TIMED_OUT') {
    // Already redriven (RUNNING, PENDING_REDRIVE) or finished since the event was sent.
    logger.info('Execution no longer needs remediation', { executionArn: action.executionArn, status });
    return { result: 'ignored', detail: { status } };
  }
  const redriveCount = execution.redriveCount ?? 0;
  const lastError = [execution.error ?? action.error, execution.cause ?? action.cause]
    .filter((part) => part !== undefined)
    .join(': ');

  let notRedrivable =
    execution.redriveStatus !== 'REDRIVABLE'
      ? (execution.redriveStatusReason ?? `redriveStatus is ${execution.redriveStatus ?? 'unknown'}`)
      : undefined;
  if (notRedrivable === undefined && redriveCount < config.maxAttempts) {
    try {
      await sfn.send(
        new RedriveExecutionCommand({
          executionArn: action.executionArn,
          clientToken: redriveToken(action.executionArn, redriveCount),
        }),
      );
      logger.info('Redrove the execution', {
        executionArn: action.executionArn,
        attempt: redriveCount + 1,
        maxAttempts: config.maxAttempts,
      });
      metrics.addMetric('ExecutionsRedriven', MetricUnit.Count, 1);
      return { result: 'redriven', detail: { attempt: redriveCount + 1 } };
    } catch (error) {
      if (!hasErrorName(error, 'ExecutionNotRedrivable')) throw error;
      notRedrivable = error instanceof Error ? error.message : 'ExecutionNotRedrivable';
    }
  }

  const boundReached = notRedrivable === undefined;
  await sendAlert(ctx, {
    type: boundReached ? 'execution-redrives-exhausted' : 'execution-not-redrivable',
    title: boundReached
      ? `Orchestration ${status} after ${redriveCount} automatic redrives`
      : `Orchestration ${status} and cannot be redriven`,
    summary: boundReached
      ? `The execution failed again after ${redriveCount} redrives (limit ${config.maxAttempts}); it is left for a person to look at.`
      : `Step Functions will not redrive this execution: ${notRedrivable}.`,
    resource: { executionArn: action.executionArn, stateMachineArn: action.stateMachineArn, status },
    correlationId,
    attempts: redriveCount,
    maxAttempts: config.maxAttempts,
    lastError: lastError === '' ? undefined : lastError,
    links: links(ctx, action.executionArn),
  });
  return { result: 'alerted', detail: { boundReached } };
}

/** An ABORTED orchestration was stopped on purpose; it is reported, never redriven. */
export async function alertAbortedExecution(action: AbortedAction, ctx: RemediationContext): Promise<Outcome> {
  const execution = await describe(action.executionArn);
  const correlationId = correlationIdOf(execution.input);
  if (correlationId !== undefined) logger.appendKeys({ correlationId });
  await sendAlert(ctx, {
    type: 'execution-aborted',
    title: 'Orchestration was aborted (not redriven)',
    summary:
      'StopExecution ended this execution. Remediation does not redrive an aborted execution, because that would overrule whoever stopped it; redrive it by hand if the stop was a mistake.',
    resource: {
      executionArn: action.executionArn,
      stateMachineArn: action.stateMachineArn,
      status: execution.status ?? 'ABORTED',
    },
    correlationId,
    attempts: 0,
    maxAttempts: ctx.config.maxAttempts,
    lastError: [execution.error, execution.cause].filter((part) => part !== undefined).join(': ') || undefined,
    links: links(ctx, action.executionArn),
  });
  return { result: 'alerted' };
}
