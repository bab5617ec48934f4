import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Invocation } from '../shared/invocation';
import { logger, metrics } from '../shared/powertools';
import { describeError } from '../shared/errors';
import type { Lease, StateTable } from '../shared/state-table';
import type { Action } from './classify';
import type { RemediationConfig } from './config';
import { ATTEMPTS_TTL_SECONDS, type Outcome, type RemediationContext } from './context';
import { ssm } from './clients';
import { currentTaskArn } from '../shared/current-task-arn';
import { remediateDms } from './dms';
import { ownership } from './ownership';
import { alertAbortedExecution, remediateExecution } from './execution';
import { remediateGlueJob } from './glue-job';
import { alertValidationFailure } from './validation-failure';

/** Thrown when another invocation is handling the same event right now; Lambda's retry will find it done. */
export class RemediationInProgressError extends Error {
  constructor(dedupeId: string, owner: string | undefined) {
    super(`Event ${dedupeId} is being remediated by ${owner ?? 'another invocation'}; retry later`);
    this.name = 'RemediationInProgressError';
  }
}

/**
 * Carries out one action under a claim on its event, so a redelivered event is skipped rather than acted on
 * twice. If the action throws, the claim is released and the error rethrown, so Lambda's retry starts afresh.
 * If this invocation dies mid-way, the claim's lease (which ends at this invocation's deadline) lapses and a
 * later delivery takes over; each remediation checks the resource's current
 * state first (the task already running, the execution already redriven, the re-run already started), so a
 * takeover does not repeat what the dead invocation managed to do.
 */
export async function runAction(
  action: Action,
  deps: { config: RemediationConfig; state: StateTable; invocation: Invocation },
): Promise<Outcome> {
  if (action.type === 'ignore') {
    logger.info('Not a failure remediation acts on; ignoring', { reason: action.reason });
    metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
    return { result: 'ignored', detail: { reason: action.reason } };
  }
  // Before the claim: a resource that is not the stage's own gets no call, no record and no alert.
  const owner = await ownership(action, deps.config, {
    currentTaskArn: () => currentTaskArn(ssm, deps.config.replicationTaskArnParameter),
  });
  if (!owner.own) {
    logger.warn("Skipping an event about a resource that is not this stage's", {
      action: action.type,
      reason: owner.reason,
      ...owner.resource,
    });
    metrics.addMetric('ForeignEventsSkipped', MetricUnit.Count, 1);
    return { result: 'skipped', detail: { reason: owner.reason } };
  }
  const claim = await deps.state.acquire(`remediation#${action.dedupeId}`, {
    owner: deps.invocation.owner,
    now: deps.invocation.now(),
    leaseExpiresAt: deps.invocation.leaseExpiresAt,
    ttlSeconds: ATTEMPTS_TTL_SECONDS,
  });
  if (claim.status === 'completed') {
    logger.info('Event already remediated; skipping the duplicate', {
      dedupeId: action.dedupeId,
      previous: claim.claim.attributes.outcome,
    });
    return { result: 'duplicate' };
  }
  if (claim.status === 'in-progress') throw new RemediationInProgressError(action.dedupeId, claim.claim.leaseOwner);

  const ctx: RemediationContext = { ...deps, lease: claim.lease };
  let outcome: Outcome;
  try {
    outcome = await perform(action, ctx);
  } catch (error) {
    // Give the claim up so Lambda's retry (about 1 and 3 minutes later) can try again; a claim left in
    // progress would outlive both retries and send the event to the dead-letter queue with nothing done.
    // What the failed attempt may have done is safe to meet again: each remediation checks current state first.
    await releaseQuietly(deps.state, claim.lease);
    throw error;
  }
  await deps.state.complete(claim.lease, { outcome: outcome.result, action: action.type }, deps.invocation.now());
  return outcome;
}

async function releaseQuietly(state: StateTable, lease: Lease): Promise<void> {
  try {
    await state.release(lease);
  } catch (releaseError) {
    logger.warn('Could not release the claim; it will expire with the lease', {
      key: lease.key,
      error: describeError(releaseError),
    });
  }
}

function perform(action: Exclude<Action, { type: 'ignore' }>, ctx: RemediationContext): Promise<Outcome> {
  switch (action.type) {
    case 'retry-glue-job':
      return remediateGlueJob(action, ctx);
    case 'recover-dms':
      return remediateDms(action, ctx);
    case 'retry-execution':
      return remediateExecution(action, ctx);
    case 'alert-aborted-execution':
      return alertAbortedExecution(action, ctx);
    case 'alert-validation-failure':
      return alertValidationFailure(action, ctx);
  }
}
