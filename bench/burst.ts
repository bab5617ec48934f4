/**
 * `npm run bench:burst`: bursts through the trigger hop in virtual time (test/support/burst-simulation.ts) with
 * the queue settings synthesized from the IncomingObjectTrigger construct for each Glue concurrency. Prints drain time, job runs and
 * Glue cost per 1 000 objects per case (median of 3 seeds); never asserts. The run model is RUN_MODEL.
 */
import * as os from 'node:os';
import { handler } from '../lambda/glue-trigger';
import { logger } from '../lambda/shared/powertools';
import { loadEnvironmentConfig } from '../lib/config/load';
import { RUN_MODEL, simulateBurst } from '../test/support/burst-simulation';
import { synthTriggerSettings } from '../test/support/trigger-settings';
import { median } from './support';

process.env.CDK_VALIDATION = 'false';
logger.setLogLevel('SILENT');

async function main(): Promise<void> {
  const base = loadEnvironmentConfig('dev', () => undefined, {});
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${os.cpus().length} CPUs`,
  );
  console.log(`run model: ${JSON.stringify(RUN_MODEL)}; objects of 1 MiB; 5 % transient errors; median of 3 seeds`);
  console.log(
    'objects  dup  conc | drain (min) | job runs | objects/run | Glue $/1000 obj | one run per object $/1000 | DLQ | wall ms',
  );
  for (const concurrency of [3, 10, 20]) {
    const settings = synthTriggerSettings({ ...base, glue: { ...base.glue, maxConcurrentRuns: concurrency } });
    for (const [objects, duplicates] of [
      [2_000, 300],
      [10_000, 1_500],
    ] as const) {
      const drains: number[] = [];
      const runs: number[] = [];
      const costs: number[] = [];
      const walls: number[] = [];
      let perObject = 0;
      let parked = 0;
      for (const seed of [1, 2, 3]) {
        const t0 = performance.now();
        const r = await simulateBurst(settings, handler, {
          objects,
          duplicates,
          concurrency,
          objectBytes: 1024 * 1024,
          transientErrorRate: 0.05,
          seed,
        });
        walls.push(performance.now() - t0);
        drains.push(r.drainSeconds / 60);
        runs.push(r.jobRuns);
        costs.push(r.costPer1000Usd);
        perObject = r.perObjectCostPer1000Usd;
        parked += r.deadLettered.length;
      }
      const jobRuns = median(runs);
      console.log(
        [
          String(objects).padStart(7),
          String(duplicates).padStart(4),
          String(concurrency).padStart(5),
          `| ${median(drains).toFixed(1).padStart(11)}`,
          `| ${String(jobRuns).padStart(8)}`,
          `| ${(objects / jobRuns).toFixed(1).padStart(11)}`,
          `| ${median(costs).toFixed(3).padStart(15)}`,
          `| ${perObject.toFixed(3).padStart(25)}`,
          `| ${String(parked).padStart(3)}`,
          `| ${median(walls).toFixed(0)}`,
        ].join(' '),
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
