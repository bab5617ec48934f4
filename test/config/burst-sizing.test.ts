import { jobRunQueuingFor, queueSizing, validationBatchProblems } from '../../lib/config/burst-sizing';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { synthTriggerSettings } from '../support/trigger-settings';

describe('queue sizing from the drain time (docs/bursts.md)', () => {
  test('the committed environments get the figures the docs table gives', () => {
    const sized = (env: 'dev' | 'staging' | 'prod') =>
      queueSizing(loadEnvironmentConfig(env, () => undefined, {}).glue);
    expect(sized('dev')).toMatchObject({ runs: 100, waves: 10, drainSeconds: 6000, maxReceiveCount: 25 });
    expect(sized('staging')).toMatchObject({ drainSeconds: 6000, maxReceiveCount: 25 });
    expect(sized('prod')).toMatchObject({ waves: 5, drainSeconds: 3000, maxReceiveCount: 15 });
    expect(sized('dev')).toMatchObject({
      visibilityTimeoutSeconds: 390,
      waitSeconds: { min: 300, max: 600 },
      retentionSeconds: 4 * 24 * 3600,
      oldestMessageAlarmSeconds: 6000 + 30 + 390,
    });
  });

  test('the receive count outlasts the drain time even if every "Glue is full" came back at its shortest', () => {
    for (const maxConcurrentRuns of [1, 3, 10, 20, 100]) {
      const s = queueSizing({ maxConcurrentRuns });
      expect((s.maxReceiveCount - 5) * s.waitSeconds.min).toBeGreaterThanOrEqual(s.drainSeconds);
    }
    // At concurrency 1 a 10 000-object burst takes 100 runs of 10 minutes: 205 receives.
    expect(queueSizing({ maxConcurrentRuns: 1 }).maxReceiveCount).toBe(205);
  });

  test('the synthesized queue, event source and function carry exactly these settings', () => {
    const config = loadEnvironmentConfig('prod', () => undefined, {});
    const s = queueSizing(config.glue);
    expect(synthTriggerSettings(config)).toMatchObject({
      batchSize: 100,
      maxBatchingWindowSeconds: 30,
      maxConcurrency: 2,
      timeoutSeconds: 60,
      visibilityTimeoutSeconds: s.visibilityTimeoutSeconds,
      maxReceiveCount: s.maxReceiveCount,
      environment: expect.objectContaining({
        MAX_RECEIVE_COUNT: String(s.maxReceiveCount),
        MAX_CONCURRENT_RUNS: '20',
        PROBE_CAPACITY: 'true',
      }) as never,
    });
  });

  test('Glue queues runs only for a job without Glue retries', () => {
    expect(jobRunQueuingFor({ maxRetries: 0 })).toBe(true);
    expect(jobRunQueuingFor({ maxRetries: 2 })).toBe(false);
  });
});

describe('glue.batch validation', () => {
  test('each bad field is named with what it should be', () => {
    expect(
      validationBatchProblems({
        batch: { maxObjects: 20_000, maxTriggerConcurrency: 1, runMinutes: 0.5, executions: 'per-file' as never },
      }),
    ).toEqual([
      'glue.batch.maxObjects is 20000: expected an integer from 1 to 10000',
      'glue.batch.maxTriggerConcurrency is 1: expected an integer from 2 to 1000',
      'glue.batch.runMinutes is 0.5: expected an integer from 1 to 60',
      "glue.batch.executions is \"per-file\": expected 'per-dataset-batch' or 'per-object'",
    ]);
  });

  test('a batch above 10 needs a batching window, as Lambda requires', () => {
    expect(validationBatchProblems({ batch: { maxObjects: 50, maxBatchingWindowSeconds: 0 } })).toEqual([
      'glue.batch.maxBatchingWindowSeconds is 0: Lambda needs a batching window of at least 1 s when glue.batch.maxObjects is above 10',
    ]);
    expect(validationBatchProblems({ batch: { maxObjects: 10, maxBatchingWindowSeconds: 0 } })).toEqual([]);
  });

  test('the committed environments are valid', () => {
    for (const env of ['dev', 'staging', 'prod'] as const) {
      expect(validationBatchProblems(loadEnvironmentConfig(env, () => undefined, {}).glue)).toEqual([]);
    }
  });
});
