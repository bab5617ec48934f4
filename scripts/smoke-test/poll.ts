import type { Clock } from './clock';

/** A smoke check that did not see what it expected; the message says both. */
export class SmokeFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeFailure';
  }
}

export type Look<T> = { done: true; value: T } | { done: false; seen: string };

export interface PollOptions {
  readonly clock: Clock;
  /** Epoch milliseconds after which the wait fails. */
  readonly deadline: number;
  readonly intervalMs: number;
  /** What we wait for, as the end of "expected …". */
  readonly expected: string;
  readonly log: (line: string) => void;
}

/**
 * Looks until `look` is done or the deadline passes, logging what it sees on every look.
 * A look may also throw `SmokeFailure` to stop early on something that can never turn good.
 */
export async function pollUntil<T>(opts: PollOptions, look: () => Promise<Look<T>>): Promise<T> {
  const started = opts.clock.now();
  for (;;) {
    const result = await look();
    if (result.done) return result.value;
    const elapsed = Math.round((opts.clock.now() - started) / 1000);
    if (opts.clock.now() + opts.intervalMs > opts.deadline) {
      throw new SmokeFailure(`expected ${opts.expected}; gave up after ${elapsed}s; last seen: ${result.seen}`);
    }
    opts.log(`${result.seen} (${elapsed}s)`);
    await opts.clock.sleep(opts.intervalMs);
  }
}
