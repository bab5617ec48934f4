import { handler } from '../../lambda/glue-trigger';
import { logger } from '../../lambda/shared/powertools';
import type { EnvironmentConfig } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { simulateBurst } from '../support/burst-simulation';
import { synthTriggerSettings } from '../support/trigger-settings';

/**
 * Issue 14: a burst of thousands of objects through the trigger hop with the queue's SYNTHESIZED settings and the
 * real handler (test/support/burst-simulation.ts). Every object is validated exactly once and nothing reaches the
 * dead-letter queue, at Glue concurrency 3, 10 and 20, with duplicate deliveries and 5 % transient errors.
 * Timings are printed by `npm run bench:burst`, never asserted here.
 */
const base = loadEnvironmentConfig('dev', () => undefined, {});
const withConcurrency = (concurrency: number): EnvironmentConfig => ({
  ...base,
  glue: { ...base.glue, maxConcurrentRuns: concurrency },
});

beforeAll(() => logger.setLogLevel('SILENT'));

describe.each([3, 10, 20])('a burst at Glue concurrency %i', (concurrency) => {
  const settings = synthTriggerSettings(withConcurrency(concurrency));

  test.each([
    [2_000, 300],
    [10_000, 1_500],
  ])(
    '%i objects plus %i duplicate deliveries: each validated exactly once, none parked',
    async (objects, duplicates) => {
      const result = await simulateBurst(settings, handler, {
        objects,
        duplicates,
        concurrency,
        objectBytes: 1024 * 1024,
        transientErrorRate: 0.05,
        seed: objects + concurrency,
      });

      expect(result.deadLettered).toEqual([]);
      expect(result.validated.size).toBe(objects);
      expect([...result.validated.values()].filter((n) => n !== 1)).toEqual([]);
      expect(result.jobRuns).toBeLessThan(objects / 20);
    },
  );
});

test('the simulation catches what the issue saw: without the backpressure settings objects are parked', async () => {
  // The settings the issue measured (batch 10, 8 receives, 5 pollers, exponential retries only, no probe).
  const settings = synthTriggerSettings(withConcurrency(10));
  const old = {
    ...settings,
    batchSize: 10,
    maxConcurrency: 5,
    maxReceiveCount: 8,
    visibilityTimeoutSeconds: 180,
    environment: {
      ...settings.environment,
      BATCH_MAX_OBJECTS: '1',
      PROBE_CAPACITY: 'false',
      WAIT_MIN_SECONDS: '30',
      WAIT_MAX_SECONDS: '60',
      MAX_RECEIVE_COUNT: '1000',
    },
  };
  const result = await simulateBurst(old, handler, {
    objects: 2_000,
    duplicates: 0,
    concurrency: 10,
    objectBytes: 1024 * 1024,
    transientErrorRate: 0,
    seed: 1,
  });
  expect(result.deadLettered.length).toBeGreaterThan(0);
});
