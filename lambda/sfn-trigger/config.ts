import { InvalidConfigError, variablesOf } from '../shared/config';

/** One execution per dataset of each validated batch, or one per object. */
export type ExecutionScope = 'per-dataset-batch' | 'per-object';

/**
 * The variables OrchestrationTrigger (lib/constructs/orchestration-trigger.ts) sets, by name. Every value
 * comes from the stack; the handler keeps no default of its own.
 */
export interface SfnTriggerEnvironment {
  readonly STATE_MACHINE_ARN: string;
  readonly EXECUTION_SCOPE: ExecutionScope;
  /** Set only per dataset batch. */
  readonly STATE_TABLE_NAME?: string;
}

export interface SfnTriggerConfig {
  /** STATE_MACHINE_ARN: the orchestration workflow (a Standard workflow: execution names are unique for 90 days). */
  stateMachineArn: string;
  /** EXECUTION_SCOPE: one execution per dataset batch or per object. */
  executionScope: ExecutionScope;
  /** STATE_TABLE_NAME: the Glue trigger's claims, which name each object's batch; required per dataset batch. */
  stateTableName?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SfnTriggerConfig {
  const v = variablesOf<SfnTriggerEnvironment>(env);
  const scope = v.required('EXECUTION_SCOPE');
  if (scope !== 'per-dataset-batch' && scope !== 'per-object') {
    throw new InvalidConfigError('EXECUTION_SCOPE', scope, "'per-dataset-batch' or 'per-object'");
  }
  return {
    stateMachineArn: v.required('STATE_MACHINE_ARN'),
    executionScope: scope,
    ...(scope === 'per-dataset-batch' ? { stateTableName: v.required('STATE_TABLE_NAME') } : {}),
  };
}
