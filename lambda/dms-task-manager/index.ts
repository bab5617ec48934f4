import {
  InvalidRequestError,
  IsCompleteResponse,
  OnEventRequest,
  OnEventResponse,
  parseIsCompleteRequest,
  parseOnEventRequest,
  providerPhase,
} from '../shared/custom-resource';
import { logger } from '../shared/powertools';
import { isTaskComplete, onTaskEvent, TASK_RESOURCE_TYPE } from './task-manager';

/**
 * One bundle, deployed twice by ManagedReplicationTask: as the Provider's onEvent function and as
 * its isComplete function (CUSTOM_RESOURCE_PHASE tells which).
 */
function checkResourceType(request: OnEventRequest): void {
  if (request.ResourceType !== TASK_RESOURCE_TYPE) {
    throw new InvalidRequestError(`Unsupported ResourceType ${request.ResourceType}; expected ${TASK_RESOURCE_TYPE}`);
  }
  logger.appendKeys({ logicalResourceId: request.LogicalResourceId, requestType: request.RequestType });
}

export async function handler(event: unknown): Promise<OnEventResponse | IsCompleteResponse> {
  if (providerPhase() === 'onEvent') {
    const request = parseOnEventRequest(event);
    checkResourceType(request);
    return onTaskEvent(request);
  }
  const request = parseIsCompleteRequest(event);
  checkResourceType(request);
  return isTaskComplete(request);
}
