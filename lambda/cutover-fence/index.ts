import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client } from 'pg';
import { logger } from '../shared/powertools';
import { type CutoverFenceConfig, loadConfig } from './config';
import {
  advanceSequences,
  fence,
  FenceError,
  isWritable,
  position,
  unfence,
  writeCounters,
  type Queryable,
  type Side,
} from './fence';

/**
 * The cutover workflow's database fence (runs in the VPC, connects with TLS using each database's
 * admin secret). Events: `{ op: 'status' }` (both sides), `{ op: 'fence' | 'unfence' | 'position' |
 * 'counters', side }`, `{ op: 'advance-sequences', from, to }`.
 */
export type FenceEvent =
  | { op: 'status' }
  | { op: 'fence' | 'unfence' | 'position' | 'counters'; side: Side }
  | { op: 'advance-sequences'; from: Side; to: Side };

const secrets = new SecretsManagerClient({});

interface AdminSecret {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port?: number | string;
  readonly dbname?: string;
}

export async function readAdminSecret(secretId: string): Promise<AdminSecret> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  const parsed = JSON.parse(out.SecretString ?? '{}') as Partial<AdminSecret>;
  if (!parsed.username || !parsed.password || !parsed.host) {
    throw new FenceError(`secret ${secretId} lacks username, password or host`);
  }
  return parsed as AdminSecret;
}

async function connect(config: CutoverFenceConfig, side: Side): Promise<Client> {
  const secret = await readAdminSecret(config.secretArns[side]);
  const client = new Client({
    host: secret.host,
    port: Number(secret.port ?? 5432),
    user: secret.username,
    password: secret.password,
    database: secret.dbname ?? config.databaseName,
    // rds.force_ssl is on; the RDS CA bundle comes from NODE_EXTRA_CA_CERTS (set by the construct).
    ssl: { rejectUnauthorized: true },
    connectionTimeoutMillis: 10_000,
    statement_timeout: 20_000,
    application_name: 'cutover-fence',
  });
  await client.connect();
  return client;
}

async function withDatabase<T>(config: CutoverFenceConfig, side: Side, fn: (db: Queryable) => Promise<T>): Promise<T> {
  const client = await connect(config, side);
  try {
    return await fn(client as unknown as Queryable);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const isSide = (v: unknown): v is Side => v === 'source' || v === 'target';

export function parseFenceEvent(event: unknown): FenceEvent {
  const e = event as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null) throw new FenceError('event must be an object');
  if (e.op === 'status') return { op: 'status' };
  if (e.op === 'advance-sequences' && isSide(e.from) && isSide(e.to) && e.from !== e.to) {
    return { op: 'advance-sequences', from: e.from, to: e.to };
  }
  if ((e.op === 'fence' || e.op === 'unfence' || e.op === 'position' || e.op === 'counters') && isSide(e.side)) {
    return { op: e.op, side: e.side };
  }
  throw new FenceError(`unsupported fence event ${JSON.stringify(event)}`);
}

export async function handler(event: unknown): Promise<unknown> {
  const e = parseFenceEvent(event);
  const config = loadConfig();
  const { appRoleName: role, schemas } = config;
  const withDb = <T>(side: Side, fn: (db: Queryable) => Promise<T>) => withDatabase(config, side, fn);
  logger.appendKeys({ op: e.op, ...('side' in e ? { side: e.side } : {}) });
  const at = () => new Date().toISOString();
  let result: unknown;
  switch (e.op) {
    case 'status': {
      const source = await withDb('source', (db) => isWritable(db, role));
      const target = await withDb('target', (db) => isWritable(db, role));
      result = { source: { side: 'source', writable: source }, target: { side: 'target', writable: target }, at: at() };
      break;
    }
    case 'fence':
      result = { side: e.side, ...(await withDb(e.side, (db) => fence(db, role))), at: at() };
      break;
    case 'unfence':
      result = { side: e.side, ...(await withDb(e.side, (db) => unfence(db, role))), at: at() };
      break;
    case 'position':
      result = { side: e.side, ...(await withDb(e.side, (db) => position(db))) };
      break;
    case 'counters':
      result = { side: e.side, at: at(), tables: await withDb(e.side, (db) => writeCounters(db, schemas)) };
      break;
    case 'advance-sequences': {
      const margin = config.sequenceMargin;
      const moves = await withDb(e.from, (from) => withDb(e.to, (to) => advanceSequences(from, to, schemas, margin)));
      result = { from: e.from, to: e.to, moved: moves, at: at() };
      break;
    }
  }
  logger.info('fence operation done', { result: result as Record<string, unknown> });
  return result;
}
