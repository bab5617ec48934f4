import type { Context, EventBridgeEvent, SNSEvent } from 'aws-lambda';
import { parseRemediationEvent } from '../shared/events';
import { invocationFrom } from '../shared/invocation';
import { logger, metrics } from '../shared/powertools';
import { StateTable } from '../shared/state-table';
import { classify } from './classify';
import { loadConfig } from './config';
import type { Outcome } from './context';
import { runAction } from './remediate';

/**
 * Remediation: Glue, DMS and Step Functions failure events (EventBridge rules, invoked asynchronously) and
 * FAILED validation results (SNS). A malformed event throws with the field named; Lambda retries it twice
 * and then sends it to the function's dead-letter queue, which is bounded and visible.
 */
export const handler = async (
  event: EventBridgeEvent<string, unknown> | SNSEvent,
  context: Context,
): Promise<Outcome[]> => {
  logger.addContext(context);
  const config = loadConfig();
  const state = new StateTable(config.stateTableName);
  const invocation = invocationFrom(context);
  try {
    const actions = classify(parseRemediationEvent(event));
    const outcomes: Outcome[] = [];
    for (const action of actions) {
      try {
        outcomes.push(await runAction(action, { config, state, invocation }));
      } finally {
        logger.removeKeys(['correlationId']);
      }
    }
    return outcomes;
  } finally {
    metrics.publishStoredMetrics();
  }
};
