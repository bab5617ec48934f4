import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { hasErrorName } from '../shared/errors';
import { MalformedEventError, parseValidationNotification, type SnsNotification } from '../shared/events';
import { logger, metrics } from '../shared/powertools';
import { sfn } from './clients';
import type { SfnTriggerConfig } from './config';
import { executionNameFor } from './execution-name';

/** What the orchestration workflow receives. */
export interface OrchestrationInput {
  correlationId: string;
  dataset: string;
  bucket: string;
  /** The validated copy (the job's destinationKey), which is what the workflow works on. */
  key: string;
  /** Version of the object as it arrived under incoming/ (null in an unversioned bucket). */
  versionId: string | null;
  reportKey: string;
}

export type NotificationOutcome =
  | { result: 'started'; executionArn: string; executionName: string }
  | { result: 'duplicate'; executionName: string }
  | { result: 'ignored'; reason: string };

/**
 * Starts the orchestration for one PASSED validation result.
 *
 * Repeats are harmless by construction: the execution name is derived from the correlation id, and a
 * Standard workflow answers StartExecution with the existing execution when name and input both match
 * (for 90 days). A different input under the same name raises ExecutionAlreadyExists: the object was
 * already orchestrated, so that is a duplicate too, logged and not retried.
 */
export async function startOrchestration(
  notification: SnsNotification,
  config: SfnTriggerConfig,
): Promise<NotificationOutcome> {
  // The subscription filters on status=PASSED, but a filter is configuration; the handler decides.
  const attributeStatus = notification.attributes.status;
  if (attributeStatus !== undefined && attributeStatus !== 'PASSED') {
    logger.info('Ignoring a validation result that did not pass', {
      status: attributeStatus,
      snsMessageId: notification.messageId,
    });
    return { result: 'ignored', reason: `status attribute is ${attributeStatus}` };
  }
  const result = parseValidationNotification(notification);
  logger.appendKeys({ correlationId: result.correlationId });
  if (result.status !== 'PASSED') {
    logger.info('Ignoring a validation result that did not pass', {
      status: result.status,
      snsMessageId: notification.messageId,
    });
    return { result: 'ignored', reason: `status is ${result.status}` };
  }
  if (result.dataset === null) {
    throw new MalformedEventError('dataset is missing: expected a PASSED validation result to name its dataset');
  }
  if (result.destinationKey === undefined) {
    throw new MalformedEventError(
      'destinationKey is missing: expected a PASSED validation result to name the validated copy',
    );
  }

  const input: OrchestrationInput = {
    correlationId: result.correlationId,
    dataset: result.dataset,
    bucket: result.bucket,
    key: result.destinationKey,
    versionId: result.versionId,
    reportKey: result.reportKey,
  };
  const executionName = executionNameFor(result.correlationId);
  try {
    const out = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: config.stateMachineArn,
        name: executionName,
        input: JSON.stringify(input),
      }),
    );
    const executionArn = out.executionArn ?? '';
    logger.info('Started the orchestration (or found it already running with the same input)', {
      executionArn,
      executionName,
    });
    metrics.addMetric('OrchestrationsStarted', MetricUnit.Count, 1);
    return { result: 'started', executionArn, executionName };
  } catch (error) {
    if (hasErrorName(error, 'ExecutionAlreadyExists')) {
      logger.info('Duplicate result: an execution with this name already exists with a different input', {
        executionName,
      });
      metrics.addMetric('DuplicateResults', MetricUnit.Count, 1);
      return { result: 'duplicate', executionName };
    }
    throw error;
  }
}
