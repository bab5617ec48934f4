import { createHash } from 'node:crypto';
import {
  type DescribeExecutionCommandOutput,
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { cloudWatchLogsUrl, stepFunctionsExecutionUrl } from '../shared/console-links';
import { hasErrorName } from '../shared/errors';
import { isRecord } from '../shared/events';
import { logger, metrics } from '../shared/powertools';
import type { Action } from './classify';
import { sfn } from './clients';
import { type Outcome, type RemediationContext, sendAlert } from './context';

type RetryAction = Extract<Action, { type: 'retry-execution' }>;
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

/** Step Functions execution names: 1-80 characters; these also keep CloudWatch logging working. */
const MAX_NAME_LENGTH = 80;
const RESTART_SUFFIX = /^(.+)-r(\d+)$/;

/** The name a chain of restarts started from, and how many automatic attempts its own name counts. */
export function parseRestartName(name: string): { base: string; attempts: number } {
  const match = RESTART_SUFFIX.exec(name);
  return match === null ? { base: name, attempts: 0 } : { base: match[1]!, attempts: Number(match[2]) };
}

/**
 * `${base}-r${attempt}`: deterministic, so a repeated restart of the same failure asks for the same name and
 * Step Functions refuses a second execution; valid ([A-Za-z0-9-_], at most 80 characters) whatever the base.
 */
export function restartName(base: string, attempt: number): string {
  const suffix = `-r${attempt}`;
  return `${base.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_NAME_LENGTH - suffix.length)}${suffix}`;
}

const nameOf = (execution: DescribeExecutionCommandOutput, executionArn: string): string =>
  execution.name ?? executionArn.slice(executionArn.lastIndexOf(':') + 1);

/**
 * A FAILED or TIMED_OUT orchestration, retried while fewer than MAX_ATTEMPTS automatic attempts were made.
 * The attempts of a chain are counted without a table: restarts are in the execution's name (`-r<n>`),
 * redrives in its redriveCount.
 *
 * - FAILED: the workflow caught the error and ran its failure path (publish, then Fail), so a redrive would
 *   only re-run the Fail state and fail again. A new execution with the same input starts it from the top.
 * - TIMED_OUT: redriven from where it stopped, while Step Functions says it is redrivable (Standard
 *   workflow, within 14 days).
 */
export async function remediateExecution(action: RetryAction, ctx: RemediationContext): Promise<Outcome> {
  const execution = await describe(action.executionArn);
  const correlationId = correlationIdOf(execution.input);
  if (correlationId !== undefined) logger.appendKeys({ correlationId });
  const status = execution.status ?? 'UNKNOWN';
  if (status !== 'FAILED' && status !== 'TIMED_OUT') {
    // Already redriven (RUNNING, PENDING_REDRIVE) or finished since the event was sent.
    logger.info('Execution no longer needs remediation', { executionArn: action.executionArn, status });
    return { result: 'ignored', detail: { status } };
  }
  const { base, attempts: restarts } = parseRestartName(nameOf(execution, action.executionArn));
  const attempts = restarts + (execution.redriveCount ?? 0);
  const lastError = [execution.error ?? action.error, execution.cause ?? action.cause]
    .filter((part) => part !== undefined)
    .join(': ');
  const report = (type: string, title: string, summary: string): Promise<Outcome> =>
    sendAlert(ctx, {
      type,
      title,
      summary,
      resource: { executionArn: action.executionArn, stateMachineArn: action.stateMachineArn, status },
      correlationId,
      attempts,
      maxAttempts: ctx.config.maxAttempts,
      lastError: lastError === '' ? undefined : lastError,
      links: links(ctx, action.executionArn),
    }).then(() => ({ result: 'alerted', detail: { type } }));

  if (attempts >= ctx.config.maxAttempts) {
    return report(
      'execution-retries-exhausted',
      `Orchestration ${status} after ${attempts} automatic retries`,
      `The execution failed again after ${attempts} automatic restarts or redrives (limit ${ctx.config.maxAttempts}); it is left for a person to look at.`,
    );
  }
  const why =
    status === 'FAILED'
      ? await restart(execution, action, ctx, base, attempts + 1)
      : await redrive(execution, action, ctx, attempts + 1);
  if (typeof why !== 'string') return why;
  return report(
    'execution-not-retryable',
    `Orchestration ${status} and cannot be retried automatically`,
    `${status === 'FAILED' ? 'It cannot be started again' : 'Step Functions will not redrive it'}: ${why}.`,
  );
}

/** Starts the same input again under the next restart name; returns why not when it cannot. */
async function restart(
  execution: DescribeExecutionCommandOutput,
  action: RetryAction,
  ctx: RemediationContext,
  base: string,
  attempt: number,
): Promise<Outcome | string> {
  const { stateMachineArn } = ctx.config;
  const failedIn = execution.stateMachineArn ?? action.stateMachineArn;
  if (failedIn !== stateMachineArn) {
    return `it belongs to ${failedIn}, not to the orchestration workflow ${stateMachineArn} this function restarts`;
  }
  if (execution.input === undefined) return 'DescribeExecution did not return its input';
  const name = restartName(base, attempt);
  try {
    const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: execution.input }));
    logger.info('Started the workflow again with the same input', {
      failedExecutionArn: action.executionArn,
      executionArn: out.executionArn,
      attempt,
      maxAttempts: ctx.config.maxAttempts,
    });
    metrics.addMetric('ExecutionsRestarted', MetricUnit.Count, 1);
    return { result: 'restarted', detail: { attempt, name } };
  } catch (error) {
    // Same name and input as a running execution is answered with that execution; a closed one with this
    // error. Either way this restart has already happened.
    if (!hasErrorName(error, 'ExecutionAlreadyExists')) throw error;
    logger.info('The restart already exists', { name });
    return { result: 'restarted', detail: { attempt, name, alreadyStarted: true } };
  }
}

/** Redrives the execution from where it stopped; returns why not when Step Functions refuses. */
async function redrive(
  execution: DescribeExecutionCommandOutput,
  action: RetryAction,
  ctx: RemediationContext,
  attempt: number,
): Promise<Outcome | string> {
  if (execution.redriveStatus !== 'REDRIVABLE') {
    return execution.redriveStatusReason ?? `redriveStatus is ${execution.redriveStatus ?? 'unknown'}`;
  }
  try {
    await sfn.send(
      new RedriveExecutionCommand({
        executionArn: action.executionArn,
        clientToken: redriveToken(action.executionArn, execution.redriveCount ?? 0),
      }),
    );
  } catch (error) {
    if (!hasErrorName(error, 'ExecutionNotRedrivable')) throw error;
    return error instanceof Error ? error.message : 'ExecutionNotRedrivable';
  }
  logger.info('Redrove the execution', {
    executionArn: action.executionArn,
    attempt,
    maxAttempts: ctx.config.maxAttempts,
  });
  metrics.addMetric('ExecutionsRedriven', MetricUnit.Count, 1);
  return { result: 'redriven', detail: { attempt } };
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
