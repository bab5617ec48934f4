import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import { regionFromEnv } from '../shared/config';
import { logger } from '../shared/powertools';
import { OpenSearchHttp, signedHttp, withRetries, DEFAULT_RETRY } from './opensearch-http';
import { applySetup } from './setup';
import { parseSetupProps } from './setup-props';

/** What the Provider framework's onEvent handler returns. */
export type SetupResult = CdkCustomResourceResponse<Record<string, string | number>> & { PhysicalResourceId: string };

/** Builds the signed, retrying client from the Lambda environment; replaced in tests. */
export type HttpFactory = (endpoint: string) => OpenSearchHttp;

const defaultHttp: HttpFactory = (endpoint) =>
  withRetries(signedHttp({ endpoint, region: regionFromEnv() }), {
    ...DEFAULT_RETRY,
    onRetry: (info) => logger.warn('OpenSearch not ready, retrying', { ...info }),
  });

/**
 * Custom resource (Provider framework onEvent) that configures the audit domain: index templates,
 * the ISM retention policy and the Firehose writer role. Delete leaves the domain and its data alone.
 */
export async function onEvent(
  event: CdkCustomResourceEvent,
  makeHttp: HttpFactory = defaultHttp,
): Promise<SetupResult> {
  if (event === null || typeof event !== 'object' || typeof event.RequestType !== 'string') {
    throw new Error('Expected a CloudFormation custom resource event with a RequestType');
  }
  if (event.RequestType === 'Delete') {
    logger.info('Delete: leaving indices, policy and roles in place', { physicalResourceId: event.PhysicalResourceId });
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const props = parseSetupProps(event.ResourceProperties ?? {});
  const previous = event.RequestType === 'Update' ? tryParse(event.OldResourceProperties) : undefined;
  const report = await applySetup(makeHttp(props.endpoint), props, previous);
  logger.info('OpenSearch audit setup applied', { requestType: event.RequestType, ...report });
  return {
    PhysicalResourceId: `opensearch-setup:${props.endpoint}`,
    Data: { IsmPolicy: report.ismPolicyVersion, IndicesAttached: report.indicesAttached },
  };
}

/** Old properties only tell which admin mapping to remove; if they do not parse there is nothing to remove. */
function tryParse(raw: Record<string, unknown> | undefined) {
  try {
    return raw ? parseSetupProps(raw) : undefined;
  } catch {
    return undefined;
  }
}

export const handler = (event: CdkCustomResourceEvent): Promise<SetupResult> => onEvent(event);
