import { cloudWatchLogsUrl, s3ObjectUrl } from '../shared/console-links';
import { logger } from '../shared/powertools';
import type { Action } from './classify';
import { type Outcome, type RemediationContext, sendAlert } from './context';

type ValidationAction = Extract<Action, { type: 'alert-validation-failure' }>;

/**
 * The file itself is bad: the job has already copied it to quarantine and written its report. Retrying
 * would produce the same verdict, so the only action is to tell someone, with the reasons and the report.
 */
export async function alertValidationFailure(action: ValidationAction, ctx: RemediationContext): Promise<Outcome> {
  const { result } = action;
  const { config } = ctx;
  logger.appendKeys({ correlationId: result.correlationId });
  const reasons = result.reasons.length > 0 ? result.reasons : ['(the job gave no reason)'];
  await sendAlert(ctx, {
    type: 'validation-failed',
    title: `Validation FAILED: ${result.key}`,
    summary: `The file failed validation${result.dataset === null ? '' : ` against dataset ${result.dataset}`} and was quarantined; it is not retried, because retrying does not fix data. Reasons: ${reasons.join('; ')}`,
    resource: {
      bucket: result.bucket,
      key: result.key,
      versionId: result.versionId ?? 'null',
      ...(result.destinationKey === undefined ? {} : { quarantinedAs: result.destinationKey }),
      reportKey: result.reportKey,
    },
    correlationId: result.correlationId,
    attempts: 0,
    lastError: reasons.join('; '),
    links: {
      report: s3ObjectUrl(config.region, result.bucket, result.reportKey),
      ...(result.destinationKey === undefined
        ? {}
        : { quarantinedObject: s3ObjectUrl(config.region, result.bucket, result.destinationKey) }),
      logs: cloudWatchLogsUrl(config.region, config.glueLogGroup),
    },
    details: {
      dataset: result.dataset,
      rowCount: result.rowCount ?? null,
      errorRows: result.errorRows ?? null,
      reasons: result.reasons,
    },
  });
  return { result: 'alerted' };
}
