/**
 * The database fence: makes one database read-only for the application role, or writable again, and
 * reads what the flip records (WAL position, per-table write counters, sequences). Pure SQL over a
 * small `Queryable`, so tests run it against a fake.
 *
 * Mechanism: `ALTER ROLE <app> SET default_transaction_read_only = on`, then terminate the role's
 * sessions so every new one starts read-only. DMS connects with its own user and keeps replicating.
 * This stops a well-behaved application, not a hostile one (a session may `SET transaction_read_only
 * = off`); see docs/adr/0019-cutover-write-fence.md.
 */

export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[] }>;
}

export type Side = 'source' | 'target';

export class FenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Cutover.FenceFailed';
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_$]{0,62}$/;

/** Quotes a role or schema name after checking it is a plain lowercase identifier (no injection through config). */
export function ident(name: string): string {
  if (!IDENTIFIER.test(name))
    throw new FenceError(`${JSON.stringify(name)} is not a plain lowercase PostgreSQL identifier`);
  return `"${name}"`;
}

/** Whether new sessions of `role` may write: no role-wide default_transaction_read_only=on. */
export async function isWritable(db: Queryable, role: string): Promise<boolean> {
  const roles = await db.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = $1', [role]);
  if (roles.rows.length === 0) throw new FenceError(`role ${role} does not exist; the application connects as it`);
  const settings = await db.query<{ setconfig: string[] | null }>(
    'SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1 AND s.setdatabase = 0',
    [role],
  );
  const config = settings.rows.flatMap((r) => r.setconfig ?? []);
  return !config.some((c) => c.toLowerCase() === 'default_transaction_read_only=on');
}

async function terminateSessions(db: Queryable, role: string): Promise<number> {
  const r = await db.query<{ terminated: boolean }>(
    'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()',
    [role],
  );
  return r.rows.filter((x) => x.terminated).length;
}

/** Read-only for the application: set the role default, end its sessions, check it took. */
export async function fence(db: Queryable, role: string): Promise<{ writable: false; terminatedSessions: number }> {
  await db.query(`ALTER ROLE ${ident(role)} SET default_transaction_read_only = on`);
  const terminatedSessions = await terminateSessions(db, role);
  if (await isWritable(db, role)) throw new FenceError(`role ${role} still writable after ALTER ROLE`);
  return { writable: false, terminatedSessions };
}

/** Writable for the application again; sessions opened while fenced are ended so pools reconnect writable. */
export async function unfence(db: Queryable, role: string): Promise<{ writable: true; terminatedSessions: number }> {
  await db.query(`ALTER ROLE ${ident(role)} RESET default_transaction_read_only`);
  const terminatedSessions = await terminateSessions(db, role);
  if (!(await isWritable(db, role))) throw new FenceError(`role ${role} still read-only after RESET`);
  return { writable: true, terminatedSessions };
}

/** The WAL position and server time: where CDC from this database resumes (`CdcStartPosition` / `CdcStartTime`). */
export async function position(db: Queryable): Promise<{ lsn: string; at: string }> {
  const r = await db.query<{ lsn: string; at: Date | string }>('SELECT pg_current_wal_lsn()::text AS lsn, now() AS at');
  const row = r.rows[0];
  if (!row) throw new FenceError('pg_current_wal_lsn() returned nothing');
  return { lsn: row.lsn, at: new Date(row.at).toISOString() };
}

/** Inserts + updates + deletes per table of the migrated schemas (cumulative since statistics were reset). */
export async function writeCounters(db: Queryable, schemas: readonly string[]): Promise<Record<string, number>> {
  const r = await db.query<{ t: string; w: string | number }>(
    "SELECT schemaname || '.' || relname AS t, n_tup_ins + n_tup_upd + n_tup_del AS w FROM pg_stat_user_tables WHERE schemaname = ANY($1::text[]) ORDER BY 1",
    [schemas],
  );
  return Object.fromEntries(r.rows.map((x) => [x.t, Number(x.w)]));
}

export interface SequenceMove {
  readonly sequence: string;
  readonly from: number;
  readonly before: number;
  readonly after: number;
}

/**
 * DMS does not migrate sequences: before `to` takes writes, each of its sequences in `schemas` is set
 * past `from`'s value plus `margin` (never moved backwards).
 */
export async function advanceSequences(
  from: Queryable,
  to: Queryable,
  schemas: readonly string[],
  margin: number,
): Promise<SequenceMove[]> {
  const q = 'SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE schemaname = ANY($1::text[])';
  const read = async (db: Queryable) =>
    new Map(
      (
        await db.query<{ schemaname: string; sequencename: string; last_value: string | number | null }>(q, [schemas])
      ).rows.map((r) => [`${r.schemaname}.${r.sequencename}`, Number(r.last_value ?? 0)]),
    );
  const [fromValues, toValues] = [await read(from), await read(to)];
  const moves: SequenceMove[] = [];
  for (const [sequence, value] of [...fromValues].sort(([a], [b]) => a.localeCompare(b))) {
    if (!toValues.has(sequence))
      throw new FenceError(`sequence ${sequence} exists on one side only; the schemas differ`);
    const before = toValues.get(sequence) ?? 0;
    const wanted = value + margin;
    if (before >= wanted) continue;
    const [schema, name] = sequence.split('.') as [string, string];
    await to.query('SELECT setval($1::regclass, $2, true)', [`${ident(schema)}.${ident(name)}`, wanted]);
    moves.push({ sequence, from: value, before, after: wanted });
  }
  return moves;
}
