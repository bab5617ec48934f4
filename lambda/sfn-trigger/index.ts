import type { Context, SNSEvent } from 'aws-lambda';
import { describeError } from '../shared/errors';
import { parseSnsNotifications } from '../shared/events';
import { logger, metrics } from '../shared/powertools';
import { loadConfig } from './config';
import { startOrchestration } from './start-orchestration';

/**
 * Validation results topic (subscription filter status=PASSED) → orchestration state machine.
 * SNS invokes asynchronously: a thrown error makes Lambda retry twice, then the function's dead-letter queue
 * takes the event. Retrying is safe because starting the same execution again is a no-op.
 */
export const handler = async (event: SNSEvent, context: Context): Promise<void> => {
  logger.addContext(context);
  const config = loadConfig();
  const failures: string[] = [];
  try {
    for (const notification of parseSnsNotifications(event)) {
      logger.appendKeys({ snsMessageId: notification.messageId });
      try {
        await startOrchestration(notification, config);
      } catch (error) {
        logger.error('Could not start the orchestration', { error: describeError(error) });
        failures.push(`${notification.messageId}: ${describeError(error)}`);
      } finally {
        logger.removeKeys(['snsMessageId', 'correlationId']);
      }
    }
  } finally {
    metrics.publishStoredMetrics();
  }
  if (failures.length > 0)
    throw new Error(`Failed to start ${failures.length} orchestration(s): ${failures.join('; ')}`);
};
