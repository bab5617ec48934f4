import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { invocationFrom } from '../shared/invocation';
import { logger, metrics } from '../shared/powertools';
import { loadConfig } from './config';
import { processBatch } from './start-validation';

/**
 * SQS (fed by the EventBridge rule for S3 "Object Created" under incoming/) → Glue validation job, one run per
 * batch of objects. The event source mapping must enable ReportBatchItemFailures: only the records returned here
 * are retried.
 */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  const config = loadConfig();
  try {
    const { batchItemFailures } = await processBatch(event.Records, config, { invocation: invocationFrom(context) });
    return { batchItemFailures };
  } finally {
    metrics.publishStoredMetrics();
  }
};
