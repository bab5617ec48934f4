import { MigratedSchema, TargetTablePrepMode } from '../config/environment-config';
import { MYSQL_SYSTEM_SCHEMAS } from '../config/load';

/** A DMS selection rule (https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TableMapping.SelectionTransformation.Selections.html). */
export interface SelectionRule {
  readonly 'rule-type': 'selection';
  readonly 'rule-id': string;
  readonly 'rule-name': string;
  readonly 'object-locator': { readonly 'schema-name': string; readonly 'table-name': string };
  readonly 'rule-action': 'include' | 'exclude';
}

export interface TableMappings {
  readonly rules: readonly SelectionRule[];
}

/**
 * Builds the task's table mappings from the configured allowlist: one include rule per named
 * schema/table, never a `%` schema. System schemas are excluded explicitly as well, so that a
 * future edit that widens a rule still cannot copy `mysql.user` password hashes.
 */
export function buildTableMappings(schemas: readonly MigratedSchema[]): TableMappings {
  return allowlistTableMappings(schemas, {
    what: 'DMS table mappings',
    isSystemSchema: (name) => MYSQL_SYSTEM_SCHEMAS.includes(name.toLowerCase()),
    systemSchemaKind: 'a MySQL system schema',
    excludedSchemaPatterns: MYSQL_SYSTEM_SCHEMAS,
  });
}

/** How {@link allowlistTableMappings} recognises and excludes the engine's own schemas. */
export interface SystemSchemas {
  /** Names the mappings in error messages (`DMS table mappings`). */
  readonly what: string;
  readonly isSystemSchema: (name: string) => boolean;
  /** For the error message: `a MySQL system schema`. */
  readonly systemSchemaKind: string;
  /** Schema names or `%` patterns excluded after the includes. */
  readonly excludedSchemaPatterns: readonly string[];
}

/**
 * Selection rules from an allowlist (https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TableMapping.SelectionTransformation.Selections.html):
 * one include rule per literal schema and table (all tables when none are named), then one exclude
 * rule per system schema pattern. A wildcard or system schema in the allowlist is refused.
 */
export function allowlistTableMappings(
  schemas: readonly { readonly name: string; readonly tables?: readonly string[] }[],
  system: SystemSchemas,
): TableMappings {
  if (schemas.length === 0) throw new Error(`${system.what} need at least one schema to include`);
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
    if (system.isSystemSchema(s.name)) {
      throw new Error(`schema ${s.name} is ${system.systemSchemaKind} and is never migrated`);
    }
    for (const t of s.tables ?? ['%']) add(s.name, t, 'include');
  }
  for (const sys of system.excludedSchemaPatterns) add(sys, '%', 'exclude');
  return { rules };
}

/**
 * Task settings (https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TaskSettings.html):
 * logging on, data validation on, LOBs bounded so a huge blob cannot stall the load.
 *
 * `targetTablePrepMode` defaults to `DO_NOTHING`: the target schema is created with native tools
 * (indexes, foreign keys, defaults; docs/operations.md "Target schema"). WARNING: `DROP_AND_CREATE`
 * replaces it with bare tables (primary key only) and drops it again on every reload.
 */
export function buildTaskSettings(targetTablePrepMode: TargetTablePrepMode = 'DO_NOTHING'): Record<string, unknown> {
  const severity = 'LOGGER_SEVERITY_DEFAULT';
  return {
    TargetMetadata: { SupportLobs: true, FullLobMode: false, LimitedSizeLobMode: true, LobMaxSize: 32 },
    FullLoadSettings: {
      TargetTablePrepMode: targetTablePrepMode,
      MaxFullLoadSubTasks: 8,
      CommitRate: 10000,
    },
    Logging: {
      EnableLogging: true,
      LogComponents: [
        'SOURCE_UNLOAD',
        'TARGET_LOAD',
        'SOURCE_CAPTURE',
        'TARGET_APPLY',
        'TASK_MANAGER',
        'VALIDATOR',
      ].map((Id) => ({ Id, Severity: severity })),
    },
    ValidationSettings: {
      EnableValidation: true,
      ValidationMode: 'ROW_LEVEL',
      ThreadCount: 5,
      FailureMaxCount: 10000,
      HandleCollationDiff: true,
    },
    ErrorBehavior: {
      DataErrorPolicy: 'LOG_ERROR',
      TableErrorPolicy: 'SUSPEND_TABLE',
      ApplyErrorDeletePolicy: 'IGNORE_RECORD',
      ApplyErrorInsertPolicy: 'LOG_ERROR',
      ApplyErrorUpdatePolicy: 'LOG_ERROR',
      RecoverableErrorCount: -1,
      RecoverableErrorInterval: 5,
      RecoverableErrorThrottling: true,
      RecoverableErrorThrottlingMax: 1800,
    },
    ChangeProcessingTuning: { BatchApplyEnabled: false, CommitTimeout: 1, MemoryLimitTotal: 1024 },
  };
}
