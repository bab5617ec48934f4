import type { Context } from 'aws-lambda';

/**
 * Hosts' clocks disagree by a little; a lease is only declared dead this long after its holder's deadline.
 */
export const LEASE_CLOCK_MARGIN_MS = 10_000;

/** Who is working, what time it is, and when Lambda will have stopped this invocation at the latest. */
export interface Invocation {
  /** Unique per invocation attempt: the Lambda request id. */
  owner: string;
  now: () => number;
  /** Epoch ms after which this invocation is certainly not running: its timeout plus a clock margin. */
  leaseExpiresAt: number;
}

export function invocationFrom(
  context: Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>,
  now: () => number = Date.now,
): Invocation {
  return {
    owner: context.awsRequestId,
    now,
    leaseExpiresAt: now() + context.getRemainingTimeInMillis() + LEASE_CLOCK_MARGIN_MS,
  };
}
