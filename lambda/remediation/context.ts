import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type Alert, publishAlert } from '../shared/alerts';
import { describeError } from '../shared/errors';
import type { Invocation } from '../shared/invocation';
import { logger, metrics } from '../shared/powertools';
import type { Lease, StateTable } from '../shared/state-table';
import { sns } from './clients';
import type { RemediationConfig } from './config';

export interface RemediationContext {
  config: RemediationConfig;
  state: StateTable;
  invocation: Invocation;
  /** The claim on the event being remediated. */
  lease: Lease;
}

export type OutcomeResult =
  | 'retried'
  | 'resumed'
  | 'reloaded'
  | 'redriven'
  | 'restarted'
  | 'quarantined'
  | 'alerted'
  | 'already-alerted'
  | 'ignored'
  | 'skipped'
  | 'duplicate';

export interface Outcome {
  result: OutcomeResult;
  detail?: Record<string, unknown>;
}

/** Attempt records and windows live long enough to cover a file's whole retry history. */
export const ATTEMPTS_TTL_SECONDS = 30 * 24 * 3600;
/** DMS recoveries are counted per task per day: a task that recovered and ran for a week starts afresh. */
export const DMS_ATTEMPT_WINDOW_SECONDS = 24 * 3600;

export async function sendAlert(ctx: RemediationContext, alert: Alert): Promise<void> {
  const messageId = await publishAlert(sns, ctx.config.alertsTopicArn, alert, new Date(ctx.invocation.now()));
  logger.warn('Alert published', { alertType: alert.type, snsMessageId: messageId, attempts: alert.attempts });
  metrics.addMetric('AlertsPublished', MetricUnit.Count, 1);
}

/**
 * Publishes `alert` once per `onceKey`: a second failure with the same cause (the same task failing with the
 * same message) is not news. Uses a claim like any other, so a crash between publishing and recording it
 * can at worst repeat the alert, never lose it.
 */
export async function sendAlertOnce(ctx: RemediationContext, onceKey: string, alert: Alert): Promise<Outcome> {
  const claim = await ctx.state.acquire(`alert-once#${onceKey}`, {
    owner: ctx.invocation.owner,
    now: ctx.invocation.now(),
    leaseExpiresAt: ctx.invocation.leaseExpiresAt,
    ttlSeconds: ATTEMPTS_TTL_SECONDS,
  });
  if (claim.status !== 'acquired') {
    logger.info('Already alerted about this failure; not alerting again', { alertType: alert.type, onceKey });
    return { result: 'already-alerted' };
  }
  try {
    await sendAlert(ctx, alert);
  } catch (error) {
    // Not sent: free the marker, or the retry would find it held and take the alert for sent.
    await ctx.state
      .release(claim.lease)
      .catch((releaseError: unknown) =>
        logger.warn('Could not release the alert-once claim', { onceKey, error: describeError(releaseError) }),
      );
    throw error;
  }
  await ctx.state.complete(claim.lease, { alertType: alert.type }, ctx.invocation.now());
  return { result: 'alerted' };
}
