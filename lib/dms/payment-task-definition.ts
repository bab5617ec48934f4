import { isPostgresSystemSchema, PaymentSchema } from '../config/payment-config';
import { buildTaskSettings, SelectionRule, TableMappings } from './task-definition';

/** Schemas excluded explicitly as well, so that a later edit that widens a rule still copies no catalog. */
export const POSTGRES_EXCLUDED_SCHEMA_PATTERNS: readonly string[] = ['pg_%', 'information_schema', 'rdsadmin'];

/**
 * Table mappings of the payment task: one include rule per allowlisted schema/table (never a `%`
 * schema), then explicit excludes of the PostgreSQL system schemas.
 */
export function buildPaymentTableMappings(schemas: readonly PaymentSchema[]): TableMappings {
  if (schemas.length === 0) throw new Error('payment table mappings need at least one schema to include');
  const rules: SelectionRule[] = [];
  const add = (schema: string, table: string, action: 'include' | 'exclude') =>
    rules.push({
      'rule-type': 'selection',
      'rule-id': String(rules.length + 1),
      'rule-name': `${action}-${schema}-${table}`.replace(/%/g, 'all').slice(0, 255),
      'object-locator': { 'schema-name': schema, 'table-name': table },
      'rule-action': action,
    });
  for (const s of schemas) {
    if (s.name.trim() === '' || /[%*]/.test(s.name)) {
      throw new Error(`schema name ${JSON.stringify(s.name)} must be a literal name, not a wildcard`);
    }
    if (isPostgresSystemSchema(s.name))
      throw new Error(`schema ${s.name} is a PostgreSQL system schema and is never migrated`);
    for (const t of s.tables ?? ['%']) add(s.name, t, 'include');
  }
  for (const sys of POSTGRES_EXCLUDED_SCHEMA_PATTERNS) add(sys, '%', 'exclude');
  return { rules };
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
