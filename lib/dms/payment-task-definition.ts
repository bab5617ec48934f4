import { isPostgresSystemSchema, PaymentSchema } from '../config/payment-config';
import { allowlistTableMappings, buildTaskSettings, TableMappings } from './task-definition';

/** Schemas excluded explicitly as well, so that a later edit that widens a rule still copies no catalog. */
export const POSTGRES_EXCLUDED_SCHEMA_PATTERNS: readonly string[] = ['pg_%', 'information_schema', 'rdsadmin'];

/**
 * Table mappings of the payment task: one include rule per allowlisted schema/table (never a `%`
 * schema), then explicit excludes of the PostgreSQL system schemas.
 */
export function buildPaymentTableMappings(schemas: readonly PaymentSchema[]): TableMappings {
  return allowlistTableMappings(schemas, {
    what: 'payment table mappings',
    isSystemSchema: isPostgresSystemSchema,
    systemSchemaKind: 'a PostgreSQL system schema',
    excludedSchemaPatterns: POSTGRES_EXCLUDED_SCHEMA_PATTERNS,
  });
}

/**
 * Settings of the forward task: the project's defaults (logging, row-level validation, bounded LOBs,
 * error handling) with the target prepared by native tools (`DO_NOTHING`: DMS neither drops nor
 * truncates the schema `pg_dump --schema-only` created, with its constraints and sequences).
 */
export function buildPaymentTaskSettings(): Record<string, unknown> {
  const base = buildTaskSettings();
  return {
    ...base,
    FullLoadSettings: { ...(base.FullLoadSettings as object), TargetTablePrepMode: 'DO_NOTHING' },
  };
}
