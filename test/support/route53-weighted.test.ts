import { answers, type ModelRecord } from './route53-weighted';

/** The model against the table AWS publishes for weights 1, 1, 0 with health checks on all three records. */
describe('Route 53 weighted selection model', () => {
  const records: ModelRecord[] = [
    { setIdentifier: 'r1', weight: 1, healthCheckId: 'h1' },
    { setIdentifier: 'r2', weight: 1, healthCheckId: 'h2' },
    { setIdentifier: 'r3', weight: 0, healthCheckId: 'h3' },
  ];
  it.each([
    // h1, h2, h3 healthy? → answered records
    [[false, false, true], ['r3']],
    [
      [false, false, false],
      ['r1', 'r2'],
    ],
    [[false, true, false], ['r2']],
    [
      [true, true, false],
      ['r1', 'r2'],
    ],
    [
      [true, true, true],
      ['r1', 'r2'],
    ],
  ])('health %j answers %j', (health, expected) => {
    const checks = { h1: health[0]!, h2: health[1]!, h3: health[2]! };
    expect([...answers(records, { checks }).keys()].sort()).toEqual(expected);
  });

  it('treats a record without a health check as always healthy', () => {
    const noCheck: ModelRecord[] = [
      { setIdentifier: 'r1', weight: 1, healthCheckId: 'h1' },
      { setIdentifier: 'r3', weight: 0 },
    ];
    expect([...answers(noCheck, { checks: { h1: false } }).keys()]).toEqual(['r3']);
  });

  it('splits by weight among healthy non-zero records', () => {
    const split = answers(
      [
        { setIdentifier: 'a', weight: 90 },
        { setIdentifier: 'b', weight: 10, healthCheckId: 'hb' },
      ],
      {},
    );
    expect(split.get('a')).toBeCloseTo(0.9);
    expect(split.get('b')).toBeCloseTo(0.1);
  });

  it('answers every record equally when all weights are zero', () => {
    const all = answers(
      [
        { setIdentifier: 'a', weight: 0 },
        { setIdentifier: 'b', weight: 0 },
      ],
      {},
    );
    expect(Object.fromEntries(all)).toEqual({ a: 0.5, b: 0.5 });
  });

  it('honours Evaluate Target Health on alias records', () => {
    const alias: ModelRecord[] = [
      { setIdentifier: 'a', weight: 100, evaluateTargetHealth: true, aliasTarget: 'alb-a' },
      { setIdentifier: 'b', weight: 0, evaluateTargetHealth: true, aliasTarget: 'alb-b' },
    ];
    expect([...answers(alias, { targets: { 'alb-a': false } }).keys()]).toEqual(['b']);
  });
});
