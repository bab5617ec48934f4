/** First retry after about 30 s, doubling per receive, never more than 15 minutes. */
export const RETRY_BASE_SECONDS = 30;
export const RETRY_CAP_SECONDS = 900;

/**
 * Visibility timeout for a record that will be retried, from its ApproximateReceiveCount (1 on first delivery).
 * Exponential with "equal jitter" (half fixed, half random) so a burst of files that all hit Glue's concurrency
 * limit together does not come back together. The queue's maxReceiveCount bounds the number of tries; after it
 * SQS moves the record to the queue's dead-letter queue, so nothing is lost.
 */
export function retryVisibilitySeconds(receiveCount: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(receiveCount - 1, 20));
  const ceiling = Math.min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Visibility timeout for a record handed back because Glue is at its concurrency: uniform in [min, max], about
 * one run time (the stack derives both from `glue.batch.runMinutes`), so the record comes back once a slot can
 * have freed, and records that were refused together do not return together. Not exponential: being early is
 * not an error, and the queue's receive count is sized for these waits (docs/bursts.md).
 */
export function waitVisibilitySeconds(
  bounds: { min: number; max: number },
  random: () => number = Math.random,
): number {
  return Math.round(bounds.min + random() * (bounds.max - bounds.min));
}
