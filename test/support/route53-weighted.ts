/**
 * A model of how Route 53 answers a query for a group of weighted records when health checks are configured
 * (Route 53 developer guide, "How Amazon Route 53 chooses records when health checking is configured" and
 * "Weighted routing": health checks and zero weights):
 *
 * 1. A record with neither an associated health check nor Evaluate Target Health is always healthy.
 * 2. A record with a health check is healthy when the check is; with Evaluate Target Health, when its alias target
 *    is (both, when it has both).
 * 3. Route 53 first considers only records with a non-zero weight; if all of them are unhealthy, it considers the
 *    zero-weight records.
 * 4. If no record at all is healthy, Route 53 treats every record as healthy (and rule 3 still applies, so the
 *    non-zero ones answer).
 * 5. If every weight is zero, every record is answered with equal probability.
 *
 * `answers` returns the set identifiers that can appear in an answer (with their share of the weight).
 */
export interface ModelRecord {
  readonly setIdentifier: string;
  readonly weight: number;
  readonly healthCheckId?: string;
  readonly evaluateTargetHealth?: boolean;
  /** What the alias points at, for Evaluate Target Health. */
  readonly aliasTarget?: string;
}

export interface HealthState {
  /** Health check id → healthy. A health check not listed is healthy. */
  readonly checks?: Readonly<Record<string, boolean>>;
  /** Alias target → healthy, for Evaluate Target Health. Not listed: healthy. */
  readonly targets?: Readonly<Record<string, boolean>>;
}

function healthy(record: ModelRecord, state: HealthState): boolean {
  const check = record.healthCheckId === undefined ? true : (state.checks?.[record.healthCheckId] ?? true);
  const target =
    record.evaluateTargetHealth && record.aliasTarget !== undefined
      ? (state.targets?.[record.aliasTarget] ?? true)
      : true;
  return check && target;
}

/** Set identifier → share of answers (0..1); identifiers that are never answered are absent. */
export function answers(records: readonly ModelRecord[], state: HealthState): Map<string, number> {
  if (records.length === 0) return new Map();
  const anyHealthy = records.some((r) => healthy(r, state));
  const isHealthy = (r: ModelRecord) => !anyHealthy || healthy(r, state);
  const nonZero = records.filter((r) => r.weight > 0);
  let pool: ModelRecord[];
  if (nonZero.length === 0) {
    pool = records.filter(isHealthy);
    return new Map(pool.map((r) => [r.setIdentifier, 1 / pool.length]));
  }
  pool = nonZero.filter(isHealthy);
  if (pool.length === 0) {
    const zero = records.filter((r) => r.weight === 0 && isHealthy(r));
    return new Map(zero.map((r) => [r.setIdentifier, 1 / zero.length]));
  }
  const total = pool.reduce((sum, r) => sum + r.weight, 0);
  return new Map(pool.map((r) => [r.setIdentifier, r.weight / total]));
}

/** Every combination of healthy/unhealthy for the given health check ids. */
export function everyHealthState(checkIds: readonly string[]): HealthState[] {
  const states: HealthState[] = [];
  for (let mask = 0; mask < 1 << checkIds.length; mask++) {
    states.push({ checks: Object.fromEntries(checkIds.map((id, i) => [id, (mask & (1 << i)) !== 0])) });
  }
  return states;
}
