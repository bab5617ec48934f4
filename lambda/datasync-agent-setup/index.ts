import { regionFromEnv } from '../shared/config';
import {
  InvalidRequestError,
  IsCompleteResponse,
  OnEventResponse,
  parseIsCompleteRequest,
  parseOnEventRequest,
  providerPhase,
} from '../shared/custom-resource';
import { logger } from '../shared/powertools';
import { AGENT_RESOURCE_TYPE, isAgentComplete, onAgentEvent } from './agent';
import { isTransferComplete, onTransferEvent, TRANSFER_RESOURCE_TYPE } from './transfer';

/**
 * One bundle, deployed twice by DataSyncAgentSetup: as the Provider's onEvent function and as its
 * isComplete function (CUSTOM_RESOURCE_PHASE tells which). It serves two resource types,
 * Custom::DataSyncAgent and Custom::DataSyncTransfer.
 */
export async function handler(event: unknown): Promise<OnEventResponse | IsCompleteResponse> {
  const phase = providerPhase();
  const region = regionFromEnv();
  if (phase === 'onEvent') {
    const request = parseOnEventRequest(event);
    logger.appendKeys({ logicalResourceId: request.LogicalResourceId, requestType: request.RequestType });
    if (request.ResourceType === AGENT_RESOURCE_TYPE) return onAgentEvent(request, { region });
    if (request.ResourceType === TRANSFER_RESOURCE_TYPE) return onTransferEvent(request);
    throw new InvalidRequestError(`Unsupported ResourceType ${request.ResourceType}`);
  }
  const request = parseIsCompleteRequest(event);
  logger.appendKeys({ logicalResourceId: request.LogicalResourceId, requestType: request.RequestType });
  if (request.ResourceType === AGENT_RESOURCE_TYPE) return isAgentComplete(request, { region });
  if (request.ResourceType === TRANSFER_RESOURCE_TYPE) return isTransferComplete();
  throw new InvalidRequestError(`Unsupported ResourceType ${request.ResourceType}`);
}
