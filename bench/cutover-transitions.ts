/**
 * State transitions (what a Standard workflow is billed by) and virtual durations of the cutover
 * workflow, from start to a completed cutover and through the rollback paths. The synthesized
 * definition runs locally against test/support/cutover-simulator.ts in virtual time; each scenario
 * runs three times and the median wall time of the local run is printed with the machine load.
 *
 *   npm run bench:cutover
 */
import '../test/support/setup';
import * as os from 'node:os';
import { synthesizeCutover } from '../test/support/cutover-fixture';
import { DEFAULT_PLAN, simulateCutover, type CutoverScenario } from '../test/support/cutover-simulator';
import { median } from './support';

const SCENARIOS: readonly { label: string; scenario: CutoverScenario }[] = [
  { label: 'full cutover, 10/50/100 %, 5-min bakes', scenario: {} },
  {
    label: 'full cutover, 10/25/50/100 %, 15-min bakes',
    scenario: {
      plan: {
        ...DEFAULT_PLAN,
        steps: [10, 25, 50, 100].map((weight) => ({ weight, bakeMinutes: 15 })),
      },
    },
  },
  {
    label: 'alarm mid-bake, rollback before flip',
    scenario: { alarms: [{ name: 'payment-dev-target-5xx', from: 420 }] },
  },
  { label: 'gate fails after flip, reverse rollback', scenario: { observedShare: (p) => (p === 100 ? 0.6 : p / 100) } },
];

async function main(): Promise<void> {
  const synth = synthesizeCutover();
  const rows = [['scenario', 'status', 'transitions', 'virtual time', 'writes refused', 'median wall (local)']];
  for (const { label, scenario } of SCENARIOS) {
    const walls: number[] = [];
    let last: Awaited<ReturnType<typeof simulateCutover>> | undefined;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      last = await simulateCutover(synth, scenario);
      walls.push(performance.now() - t0);
      if (last.invariant.violations.length) throw new Error(`${label}: ${last.invariant.violations.join('; ')}`);
    }
    rows.push([
      label,
      last!.run.status,
      String(last!.run.transitions),
      `${(last!.world.now / 60).toFixed(1)} min`,
      `${last!.world.refusedWrites} s`,
      `${median(walls).toFixed(0)} ms`,
    ]);
  }
  console.log(
    `Cutover workflow, ${Object.keys(synth.definition.States).length} states; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${os.cpus().length} cores`,
  );
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
