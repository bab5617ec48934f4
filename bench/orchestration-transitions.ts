/**
 * State transitions and polling latency of the orchestration workflow for full loads of different
 * lengths, from a task that never ran (`ready`) to a replicated batch. The synthesized definition
 * runs locally against the fake DMS of test/support/dms-simulator.ts in virtual time; nothing
 * waits for real. Standard workflows are billed per state transition, and the polling schedule
 * trades transitions against how late the workflow notices that the full load is done.
 *
 *   npx tsx bench/orchestration-transitions.ts
 */
import '../test/support/setup';
import { simulate, synthesizeReplicationWorkflow, type Simulation } from '../test/support/dms-simulator';

const LOADS: readonly { label: string; seconds: number }[] = [
  { label: '5 min', seconds: 5 * 60 },
  { label: '1 h', seconds: 60 * 60 },
  { label: '6 h', seconds: 6 * 60 * 60 },
];
/** Seconds DMS spends `starting` before `running` in the simulation. */
const STARTUP_SECONDS = 20;

const minutes = (s: number | undefined): string => (s === undefined ? '-' : `${(s / 60).toFixed(1)} min`);

function row(label: string, s: Simulation, note = ''): string[] {
  return [
    label,
    s.status,
    String(s.transitions),
    String(s.sim.describes.length),
    s.sim.pollingLatencySeconds() === undefined ? '-' : `${s.sim.pollingLatencySeconds()} s`,
    minutes(s.durationSeconds),
    note,
  ];
}

function print(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

async function main(): Promise<void> {
  const workflow = synthesizeReplicationWorkflow();
  const timeout = workflow.definition.TimeoutSeconds;
  const rows: string[][] = [
    ['full load', 'status', 'transitions', 'describes', 'noticed after', 'virtual run time', 'note'],
  ];
  for (const load of LOADS) {
    const scenario = {
      initialStatus: 'ready' as const,
      fullLoadSeconds: load.seconds,
      startupSeconds: STARTUP_SECONDS,
    };
    const s = await simulate(workflow, scenario);
    rows.push(row(load.label, s, s.status === 'TIMED_OUT' ? `execution timeout ${timeout} s` : ''));
    if (s.status === 'TIMED_OUT') {
      // What the schedule alone would cost if the execution were allowed to wait the load out.
      const unbounded = await simulate(workflow, { ...scenario, timeoutSeconds: Number.POSITIVE_INFINITY });
      rows.push(row(`${load.label} (no timeout)`, unbounded, 'schedule only'));
    }
  }
  console.log(
    `Orchestration workflow from a ready task to a replicated batch (task startup ${STARTUP_SECONDS} s, ` +
      `CDC latency under the bound on the first check)`,
  );
  print(rows);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
