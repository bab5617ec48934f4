import { variablesOf } from '../shared/config';
import type { Side } from './fence';

/**
 * The variables CutoverWorkflow (lib/constructs/payment/cutover-workflow.ts) sets, by name. Every value,
 * defaults included (application role, database name, sequence margin), comes from the construct.
 */
export interface CutoverFenceEnvironment {
  readonly SOURCE_SECRET_ARN: string;
  readonly TARGET_SECRET_ARN: string;
  readonly APP_ROLE_NAME: string;
  readonly DATABASE_NAME: string;
  /** Comma-separated. */
  readonly SCHEMAS: string;
  readonly SEQUENCE_MARGIN: string;
  /** Not read by the handler: Node loads the RDS CA bundle from it for TLS with verification. */
  readonly NODE_EXTRA_CA_CERTS: string;
}

export interface CutoverFenceConfig {
  /** SOURCE_SECRET_ARN / TARGET_SECRET_ARN: each database's admin secret (host, port, user, password, dbname). */
  secretArns: Readonly<Record<Side, string>>;
  /** APP_ROLE_NAME: the application's database role, whose write access the fence takes away and gives back. */
  appRoleName: string;
  /** DATABASE_NAME: used when a secret names no `dbname`. */
  databaseName: string;
  /** SCHEMAS: whose tables are counted and whose sequences are advanced. */
  schemas: readonly string[];
  /** SEQUENCE_MARGIN: how far past the other side's value a sequence is moved. */
  sequenceMargin: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): CutoverFenceConfig {
  const v = variablesOf<CutoverFenceEnvironment>(env);
  return {
    secretArns: { source: v.required('SOURCE_SECRET_ARN'), target: v.required('TARGET_SECRET_ARN') },
    appRoleName: v.required('APP_ROLE_NAME'),
    databaseName: v.required('DATABASE_NAME'),
    schemas: v
      .required('SCHEMAS')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    sequenceMargin: v.integer('SEQUENCE_MARGIN'),
  };
}
