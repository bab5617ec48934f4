import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/**
 * Retries a task on the given throttling errors ("<Service>.<Error>" names of the SDK integrations):
 * six attempts, exponential from 2 s, capped at 60 s, full jitter, so parallel executions spread out.
 */
export function retryThrottling<T extends sfn.TaskStateBase>(state: T, errors: readonly string[]): T {
  state.addRetry({
    errors: [...errors],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return state;
}
