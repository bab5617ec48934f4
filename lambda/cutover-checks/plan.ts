/**
 * The cutover plan an operator submits, and its validation. A bad plan is refused before anything is
 * read or changed, with one message per field that names the field and says what is allowed.
 */

/** One traffic step as the operator writes it. */
export interface PlanStepInput {
  /** Share of traffic for the target environment, in percent (1-100). */
  readonly weight: number;
  /** How long to watch the step before its gate, in minutes. */
  readonly bakeMinutes: number;
}

export interface PlanThresholdsInput {
  readonly cdcLatencySeconds?: number;
  readonly splitTolerance?: number;
  readonly minRequests?: number;
  readonly minHealthyTargets?: number;
}

export interface PlanInput {
  readonly steps: readonly PlanStepInput[];
  readonly approver: string;
  readonly checkIntervalSeconds?: number;
  readonly thresholds?: PlanThresholdsInput;
}

export interface Thresholds {
  /** Highest CDCLatencySource / CDCLatencyTarget accepted at a pre-check or gate. */
  readonly cdcLatencySeconds: number;
  /** Largest accepted difference between intended and observed target share (0-1). */
  readonly splitTolerance: number;
  /** Fewest requests (both environments) in the gate window for the observed split to count. */
  readonly minRequests: number;
  readonly minHealthyTargets: number;
}

export interface PlanStep {
  /** 1-based position in the plan. */
  readonly number: number;
  readonly targetWeight: number;
  readonly sourceWeight: number;
  readonly bakeSeconds: number;
  /** Bake ticks: one alarm and command check every `checkIntervalSeconds`. */
  readonly ticks: number;
}

/** The plan as the workflow uses it: normalised, defaults filled in, the flip placed before the last step. */
export interface Plan {
  /** Steps below 100 %, taken while the source database is the writer. */
  readonly preFlipSteps: readonly PlanStep[];
  /** The 100 % step, taken after the write flip. */
  readonly finalStep: PlanStep;
  readonly preFlipCount: number;
  readonly stepCount: number;
  readonly approver: string;
  readonly approvalTimeoutSeconds: number;
  readonly checkIntervalSeconds: number;
  readonly thresholds: Thresholds;
  /** Longest the plan can take if every step passes at once (bakes + approval), for the operator. */
  readonly plannedSeconds: number;
}

/** Construct-level defaults and bounds, given to the function through its environment. */
export interface PlanDefaults {
  readonly thresholds: Thresholds;
  readonly approvalTimeoutSeconds: number;
  readonly checkIntervalSeconds: number;
  /** The execution's timeout, minus what the flip and a rollback may take: bakes and approval must fit. */
  readonly budgetSeconds: number;
}

export class PlanInvalidError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`The cutover plan is invalid: ${problems.join('; ')}`);
    this.name = 'Cutover.PlanInvalid';
  }
}

const MAX_STEPS = 10;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates `raw` (the `plan` of the execution input) and returns the normalised plan, or throws PlanInvalidError. */
export function validatePlan(raw: unknown, defaults: PlanDefaults): Plan {
  const problems: string[] = [];
  if (!isObject(raw)) throw new PlanInvalidError(['plan: must be an object with steps and approver']);

  const known = ['steps', 'approver', 'checkIntervalSeconds', 'thresholds'];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) problems.push(`plan.${key}: unknown field (allowed: ${known.join(', ')})`);
  }

  const number = (path: string, value: unknown, min: number, max: number, integer: boolean): number | undefined => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      problems.push(`${path}: must be a number, got ${JSON.stringify(value)}`);
      return undefined;
    }
    if (integer && !Number.isInteger(value)) problems.push(`${path}: must be a whole number, got ${value}`);
    if (value < min || value > max) problems.push(`${path}: must be between ${min} and ${max}, got ${value}`);
    return value;
  };
  const optional = (path: string, value: unknown, min: number, max: number, integer: boolean, fallback: number) =>
    value === undefined ? fallback : (number(path, value, min, max, integer) ?? fallback);

  const checkIntervalSeconds = optional(
    'plan.checkIntervalSeconds',
    raw.checkIntervalSeconds,
    30,
    900,
    true,
    defaults.checkIntervalSeconds,
  );
  // Fixed per stage (CutoverWorkflowProps.approvalTimeout): the approval state's TimeoutSeconds is static.
  const approvalTimeoutSeconds = defaults.approvalTimeoutSeconds;

  if (typeof raw.approver !== 'string' || raw.approver.trim() === '') {
    problems.push('plan.approver: must name who approves (an e-mail address or an IAM principal ARN)');
  }

  let thresholds = defaults.thresholds;
  if (raw.thresholds !== undefined) {
    if (!isObject(raw.thresholds)) problems.push('plan.thresholds: must be an object');
    else {
      const t = raw.thresholds;
      const allowed = Object.keys(defaults.thresholds);
      for (const key of Object.keys(t)) {
        if (!allowed.includes(key))
          problems.push(`plan.thresholds.${key}: unknown threshold (allowed: ${allowed.join(', ')})`);
      }
      const d = defaults.thresholds;
      thresholds = {
        cdcLatencySeconds: optional(
          'plan.thresholds.cdcLatencySeconds',
          t.cdcLatencySeconds,
          1,
          d.cdcLatencySeconds,
          false,
          d.cdcLatencySeconds,
        ),
        // A plan may tighten the stage's gates, never loosen them: a smaller tolerance, more requests
        // before the split is judged, more healthy targets.
        splitTolerance: optional(
          'plan.thresholds.splitTolerance',
          t.splitTolerance,
          0.01,
          d.splitTolerance,
          false,
          d.splitTolerance,
        ),
        minRequests: optional(
          'plan.thresholds.minRequests',
          t.minRequests,
          d.minRequests,
          1_000_000,
          true,
          d.minRequests,
        ),
        minHealthyTargets: optional(
          'plan.thresholds.minHealthyTargets',
          t.minHealthyTargets,
          d.minHealthyTargets,
          100,
          true,
          d.minHealthyTargets,
        ),
      };
    }
  }

  const steps: PlanStep[] = [];
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) {
    problems.push(
      'plan.steps: must be a list of at least one step, e.g. [{"weight":10,"bakeMinutes":10},{"weight":100,"bakeMinutes":15}]',
    );
  } else if (raw.steps.length > MAX_STEPS) {
    problems.push(`plan.steps: at most ${MAX_STEPS} steps, got ${raw.steps.length}`);
  } else {
    let previous = 0;
    raw.steps.forEach((s: unknown, i: number) => {
      const path = `plan.steps[${i}]`;
      if (!isObject(s)) {
        problems.push(`${path}: must be an object with weight and bakeMinutes`);
        return;
      }
      for (const key of Object.keys(s)) {
        if (key !== 'weight' && key !== 'bakeMinutes')
          problems.push(`${path}.${key}: unknown field (allowed: weight, bakeMinutes)`);
      }
      const weight = number(`${path}.weight`, s.weight, 1, 100, true);
      const bakeMinutes = number(`${path}.bakeMinutes`, s.bakeMinutes, 1, 24 * 60, true);
      if (weight !== undefined && weight <= previous) {
        problems.push(`${path}.weight: must be greater than the previous step's ${previous}, got ${weight}`);
      }
      if (weight === undefined || bakeMinutes === undefined) return;
      previous = Math.max(previous, weight);
      const bakeSeconds = bakeMinutes * 60;
      steps.push({
        number: i + 1,
        targetWeight: weight,
        sourceWeight: 100 - weight,
        bakeSeconds,
        ticks: Math.max(1, Math.ceil(bakeSeconds / checkIntervalSeconds)),
      });
    });
    const last = raw.steps[raw.steps.length - 1] as { weight?: unknown } | undefined;
    if (isObject(last) && last.weight !== 100) {
      problems.push(
        `plan.steps[${raw.steps.length - 1}].weight: the last step must move all traffic (100), got ${JSON.stringify(last.weight)}`,
      );
    }
  }

  const plannedSeconds = approvalTimeoutSeconds + steps.reduce((sum, s) => sum + s.bakeSeconds, 0);
  if (problems.length === 0 && plannedSeconds > defaults.budgetSeconds) {
    problems.push(
      `plan.steps: bakes plus the approval timeout take ${plannedSeconds} s, more than the ${defaults.budgetSeconds} s the workflow allows; shorten bakeMinutes`,
    );
  }
  if (problems.length > 0) throw new PlanInvalidError(problems);

  const finalStep = steps[steps.length - 1]!;
  return {
    preFlipSteps: steps.slice(0, -1),
    finalStep,
    preFlipCount: steps.length - 1,
    stepCount: steps.length,
    approver: String(raw.approver).trim(),
    approvalTimeoutSeconds,
    checkIntervalSeconds,
    thresholds,
    plannedSeconds,
  };
}
