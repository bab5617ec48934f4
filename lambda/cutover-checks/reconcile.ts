/**
 * The reconciliation report a rollback emits: rows the application wrote on each side since the
 * flip (from the databases' own per-table write counters, read by the fence function at the flip
 * and at the rollback), what the reverse task applied, its validation state, and where forward
 * replication must resume.
 */
import { validationCheck, type TableStatistics } from './evaluate';

/** Per-table writes (inserts + updates + deletes since statistics reset), as the fence function reads them. */
export interface WriteCounters {
  readonly side: 'source' | 'target';
  readonly at: string;
  readonly tables: Readonly<Record<string, number>>;
}

export interface ReconcileInput {
  /** Where the rollback started: `pre-flip` (weights only) or `post-flip` (data moved back). */
  readonly phase: string;
  readonly reason: unknown;
  readonly atFlip?: { source?: WriteCounters; target?: WriteCounters };
  readonly atRollback?: { source?: WriteCounters; target?: WriteCounters };
  readonly reverseTables?: { TableStatistics?: TableStatistics[] };
  /** Source position to resume forward replication from (`CdcStartPosition` / `CdcStartTime`). */
  readonly resumeForwardFrom?: unknown;
}

export interface ReconciliationReport {
  readonly phase: string;
  readonly reason: unknown;
  readonly rowsWrittenSinceFlip?: {
    readonly source: number;
    readonly target: number;
    readonly byTable: Record<string, { source: number; target: number }>;
    /** Counters can reset (a restart or failover); a negative difference is reported, not hidden. */
    readonly countersReset: string[];
  };
  readonly reverseApplied?: { rows: number; validation: string; validationOk: boolean };
  readonly resumeForwardFrom?: unknown;
}

function diff(before: WriteCounters | undefined, after: WriteCounters | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [table, n] of Object.entries(after?.tables ?? {})) out[table] = n - (before?.tables[table] ?? 0);
  return out;
}

export function reconcile(input: ReconcileInput): ReconciliationReport {
  const base = { phase: input.phase, reason: input.reason };
  if (!input.atFlip?.source || !input.atFlip.target || !input.atRollback?.source || !input.atRollback.target)
    return { ...base, ...(input.resumeForwardFrom ? { resumeForwardFrom: input.resumeForwardFrom } : {}) };
  const source = diff(input.atFlip.source, input.atRollback.source);
  const target = diff(input.atFlip.target, input.atRollback.target);
  const tables = [...new Set([...Object.keys(source), ...Object.keys(target)])].sort();
  const byTable = Object.fromEntries(tables.map((t) => [t, { source: source[t] ?? 0, target: target[t] ?? 0 }]));
  const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
  const stats = input.reverseTables?.TableStatistics ?? [];
  const validation = validationCheck({ TableStatistics: stats });
  return {
    ...base,
    rowsWrittenSinceFlip: {
      source: total(source),
      target: total(target),
      byTable,
      countersReset: tables.filter((t) => (source[t] ?? 0) < 0 || (target[t] ?? 0) < 0),
    },
    reverseApplied: {
      rows: stats.reduce((n, t) => n + (t.Inserts ?? 0) + (t.Updates ?? 0) + (t.Deletes ?? 0), 0),
      validation: validation.detail,
      validationOk: validation.ok,
    },
    ...(input.resumeForwardFrom ? { resumeForwardFrom: input.resumeForwardFrom } : {}),
  };
}
