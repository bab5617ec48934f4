import { requireEnv } from '../shared/config';

export interface SfnTriggerConfig {
  /** STATE_MACHINE_ARN: the orchestration workflow (a Standard workflow: execution names are unique for 90 days). */
  stateMachineArn: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SfnTriggerConfig {
  return { stateMachineArn: requireEnv('STATE_MACHINE_ARN', env) };
}
