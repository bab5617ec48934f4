import { PlanDefaults, PlanInvalidError, validatePlan } from '../../lambda/cutover-checks/plan';

const DEFAULTS: PlanDefaults = {
  thresholds: { cdcLatencySeconds: 60, splitTolerance: 0.1, minRequests: 100, minHealthyTargets: 2 },
  approvalTimeoutSeconds: 1800,
  checkIntervalSeconds: 60,
  budgetSeconds: 20 * 3600,
};

const plan = (extra: Record<string, unknown> = {}) => ({
  approver: 'ops@example.com',
  steps: [
    { weight: 10, bakeMinutes: 10 },
    { weight: 50, bakeMinutes: 10 },
    { weight: 100, bakeMinutes: 15 },
  ],
  ...extra,
});

/** The problems a refused plan reports (fails the test if the plan is accepted). */
function problems(raw: unknown): readonly string[] {
  try {
    validatePlan(raw, DEFAULTS);
  } catch (e) {
    expect(e).toBeInstanceOf(PlanInvalidError);
    return (e as PlanInvalidError).problems;
  }
  throw new Error('the plan was accepted');
}

describe('validatePlan', () => {
  it('places the flip before the 100 % step and fills in the stage defaults', () => {
    const p = validatePlan(plan(), DEFAULTS);
    expect(p.preFlipSteps.map((s) => [s.targetWeight, s.sourceWeight])).toEqual([
      [10, 90],
      [50, 50],
    ]);
    expect(p.finalStep).toMatchObject({ number: 3, targetWeight: 100, sourceWeight: 0, bakeSeconds: 900, ticks: 15 });
    expect(p.thresholds).toEqual(DEFAULTS.thresholds);
    expect(p.plannedSeconds).toBe(1800 + 35 * 60);
  });

  it('lets a plan tighten every gate', () => {
    const p = validatePlan(
      plan({ thresholds: { cdcLatencySeconds: 5, splitTolerance: 0.02, minRequests: 5000, minHealthyTargets: 3 } }),
      DEFAULTS,
    );
    expect(p.thresholds).toEqual({
      cdcLatencySeconds: 5,
      splitTolerance: 0.02,
      minRequests: 5000,
      minHealthyTargets: 3,
    });
  });

  it.each([
    ['cdcLatencySeconds', 120],
    ['splitTolerance', 0.3],
    ['minRequests', 10],
    ['minHealthyTargets', 1],
  ])('refuses a plan that loosens %s, naming the field', (field, value) => {
    const found = problems(plan({ thresholds: { [field]: value } }));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^plan\\.thresholds\\.${field}: must be between`));
  });

  it('names every bad field at once', () => {
    const found = problems({
      approver: ' ',
      steps: [
        { weight: 50, bakeMinutes: 5 },
        { weight: 40, bakeMinutes: 0, extra: true },
      ],
      thresholds: { typo: 1 },
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^plan\.approver:/),
        expect.stringMatching(/^plan\.steps\[1\]\.extra: unknown field/),
        expect.stringMatching(/^plan\.steps\[1\]\.bakeMinutes: must be between 1/),
        expect.stringMatching(/^plan\.steps\[1\]\.weight: must be greater than the previous step's 50/),
        expect.stringMatching(/^plan\.steps\[1\]\.weight: the last step must move all traffic/),
        expect.stringMatching(/^plan\.thresholds\.typo: unknown threshold/),
      ]),
    );
  });

  it('refuses a plan whose bakes and approval do not fit the execution budget', () => {
    const found = problems(
      plan({
        steps: [
          { weight: 50, bakeMinutes: 24 * 60 },
          { weight: 100, bakeMinutes: 24 * 60 },
        ],
      }),
    );
    expect(found).toEqual([
      expect.stringMatching(/^plan\.steps: bakes plus the approval timeout take \d+ s, more than the 72000 s/),
    ]);
  });
});
