import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { hasErrorName } from '../shared/errors';
import { MalformedEventError, parseValidationNotification, type SnsNotification } from '../shared/events';
import { logger, metrics } from '../shared/powertools';
import { StateTable } from '../shared/state-table';
import { sfn } from './clients';
import type { SfnTriggerConfig } from './config';
import { batchExecutionNameFor, executionNameFor } from './execution-name';

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
  /**
   * The validation batch, when the execution covers every PASSED object of `dataset` in it; `correlationId` is
   * then the execution name and the other fields name the object whose result started it. Absent for an
   * execution per object.
   */
  batchId?: string;
}

export type NotificationOutcome =
  | { result: 'started'; executionArn: string; executionName: string }
  | { result: 'duplicate'; executionName: string }
  | { result: 'ignored'; reason: string };

/**
 * The batch the Glue trigger started this object in, from its claim (`glue-run#<correlationId>`). None for an
 * object validated alone (before batches, or re-run by remediation): it keeps an execution of its own.
 */
async function batchOf(correlationId: string, config: SfnTriggerConfig): Promise<string | undefined> {
  if (config.stateTableName === undefined) return undefined;
  const claim = await new StateTable(config.stateTableName).read(`glue-run#${correlationId}`);
  return claim?.attributes.batchId;
}

/**
 * Starts the orchestration for one PASSED validation result: one execution per dataset of each validation batch
 * (docs/bursts.md), or one per object when EXECUTION_SCOPE is per-object or the object has no batch.
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

  const batchId =
    config.executionScope === 'per-dataset-batch' ? await batchOf(result.correlationId, config) : undefined;
  const executionName =
    batchId === undefined ? executionNameFor(result.correlationId) : batchExecutionNameFor(batchId, result.dataset);
  const input: OrchestrationInput = {
    correlationId: batchId === undefined ? result.correlationId : executionName,
    dataset: result.dataset,
    bucket: result.bucket,
    key: result.destinationKey,
    versionId: result.versionId,
    reportKey: result.reportKey,
    ...(batchId === undefined ? {} : { batchId }),
  };
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
      // Per dataset batch this is the normal case: an earlier object of the same batch started it.
      logger.info('Duplicate result: an execution with this name already exists with a different input', {
        executionName,
        batchId,
      });
      metrics.addMetric('DuplicateResults', MetricUnit.Count, 1);
      return { result: 'duplicate', executionName };
    }
    throw error;
  }
}
