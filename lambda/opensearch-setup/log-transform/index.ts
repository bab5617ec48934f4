import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { logger } from '../../shared/powertools';
import { transformEvent } from './cloudwatch-logs-documents';

/**
 * Firehose data-transformation processor of the `audit-logs` stream: one CloudWatch Logs
 * subscription record in, one OpenSearch document out (see cloudwatch-logs-documents.ts).
 */
export const handler = async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
  const { response, summary } = transformEvent(event);
  if (summary.failed > 0) {
    logger.warn('Records sent to the S3 backup unprocessed', { ...summary });
  } else {
    logger.debug('Transformed records', { ...summary });
  }
  return response;
};
