import { InvalidConfigError, optionalEnv, requireEnv } from '../shared/config';

/** One execution per dataset of each validated batch, or one per object. */
export type ExecutionScope = 'per-dataset-batch' | 'per-object';

export interface SfnTriggerConfig {
  /** STATE_MACHINE_ARN: the orchestration workflow (a Standard workflow: execution names are unique for 90 days). */
  stateMachineArn: string;
  /** EXECUTION_SCOPE: @default 'per-dataset-batch' */
  executionScope: ExecutionScope;
  /** STATE_TABLE_NAME: the Glue trigger's claims, which name each object's batch; required per dataset batch. */
  stateTableName?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SfnTriggerConfig {
  const scope = optionalEnv('EXECUTION_SCOPE', env) ?? 'per-dataset-batch';
  if (scope !== 'per-dataset-batch' && scope !== 'per-object') {
    throw new InvalidConfigError('EXECUTION_SCOPE', scope, "'per-dataset-batch' or 'per-object'");
  }
  return {
    stateMachineArn: requireEnv('STATE_MACHINE_ARN', env),
    executionScope: scope,
    ...(scope === 'per-dataset-batch' ? { stateTableName: requireEnv('STATE_TABLE_NAME', env) } : {}),
  };
}
