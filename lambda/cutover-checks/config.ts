import { InvalidConfigError, variablesOf } from '../shared/config';
import type { PlanDefaults } from './plan';

/** The variables CutoverWorkflow (lib/constructs/payment/cutover-workflow.ts) sets, by name. */
export interface CutoverChecksEnvironment {
  /** JSON of {@link PlanDefaults}: the construct's defaults and bounds for every plan. */
  readonly CUTOVER_PLAN_DEFAULTS: string;
}

/** The plan defaults the construct wired; every value comes from it, the handler keeps none of its own. */
export function loadPlanDefaults(env: NodeJS.ProcessEnv = process.env): PlanDefaults {
  const raw = variablesOf<CutoverChecksEnvironment>(env).required('CUTOVER_PLAN_DEFAULTS');
  try {
    return JSON.parse(raw) as PlanDefaults;
  } catch {
    throw new InvalidConfigError('CUTOVER_PLAN_DEFAULTS', raw, 'JSON of PlanDefaults (lambda/cutover-checks/plan.ts)');
  }
}
