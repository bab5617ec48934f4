import {
  currentPhysicalId,
  InvalidRequestError,
  parseOnEventRequest,
  type OnEventRequest,
  type OnEventResponse,
} from '../shared/custom-resource';
import { logger } from '../shared/powertools';
import {
  changesForCreate,
  changesForDelete,
  changesForUpdate,
  describeWeights,
  parseSpec,
  physicalIdOf,
  RESOURCE_TYPE,
  setIdentifiersOf,
  type RecordChange,
  type WeightedRecordsSpec,
} from './records';
import { applyChanges, listLiveRecords, waitInSync } from './route53';

/**
 * Owns the weighted alias records of the payment service name (docs/adr/0013): CloudFormation creates and deletes
 * them through this handler, but never writes a weight into an existing record. The cutover workflow changes
 * weights; a redeploy changes alias targets and health checks and keeps the live weights.
 */
export async function handler(event: unknown, context?: { getRemainingTimeInMillis?: () => number }) {
  const request = parseOnEventRequest(event);
  if (request.ResourceType !== RESOURCE_TYPE) {
    throw new InvalidRequestError(`Unsupported ResourceType ${request.ResourceType}; expected ${RESOURCE_TYPE}`);
  }
  logger.appendKeys({ logicalResourceId: request.LogicalResourceId, requestType: request.RequestType });
  const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? 60_000) - 10_000;
  return onEvent(request, deadline);
}

export async function onEvent(request: OnEventRequest, deadlineMs: number): Promise<OnEventResponse> {
  const spec = parseSpec(request.ResourceProperties);
  const physicalId = physicalIdOf(spec);
  switch (request.RequestType) {
    case 'Create':
      return create(spec, deadlineMs);
    case 'Update': {
      // A new zone, name or type is a new group: create it; CloudFormation then deletes the old one.
      if (request.PhysicalResourceId !== physicalId) return create(spec, deadlineMs);
      const live = await listLiveRecords(spec.hostedZoneId, spec.recordName, spec.recordType);
      const { changes, recreated } = changesForUpdate(spec, live, setIdentifiersOf(request.OldResourceProperties));
      if (recreated.length > 0) {
        logger.warn('Records missing from the zone are created again with their initial weight', { recreated });
      }
      await apply(spec, changes, `Update of ${physicalId}: targets and health checks, live weights kept`, deadlineMs);
      return respond(physicalId, changes);
    }
    case 'Delete': {
      // Only delete the group this resource created (an old physical id after a replacement names another group).
      const old = request.PhysicalResourceId === physicalId ? spec : parseOld(request);
      const live = await listLiveRecords(old.hostedZoneId, old.recordName, old.recordType);
      const changes = changesForDelete(
        old.records.map((r) => r.setIdentifier),
        live,
      );
      await apply(old, changes, `Delete of ${physicalIdOf(old)}`, deadlineMs);
      return { PhysicalResourceId: request.PhysicalResourceId! };
    }
  }
}

async function create(spec: WeightedRecordsSpec, deadlineMs: number): Promise<OnEventResponse> {
  const changes = changesForCreate(spec);
  try {
    await apply(spec, changes, `Create of ${physicalIdOf(spec)}`, deadlineMs);
  } catch (e) {
    if ((e as Error).name === 'InvalidChangeBatch') {
      throw new Error(
        `${spec.recordName} ${spec.recordType} in zone ${spec.hostedZoneId} already has weighted records with these set identifiers (${(e as Error).message}). ` +
          'Delete them (after moving traffic elsewhere) or choose another record name; this resource does not adopt records it did not create.',
      );
    }
    throw e;
  }
  return respond(physicalIdOf(spec), changes);
}

/** On Delete after a replacement, the properties describe the new group; the old one is named by the physical id. */
function parseOld(request: OnEventRequest): WeightedRecordsSpec {
  const [hostedZoneId, recordName, recordType] = (currentPhysicalId(request) ?? '').split('|');
  if (!hostedZoneId || !recordName || (recordType !== 'A' && recordType !== 'AAAA')) {
    throw new InvalidRequestError(`PhysicalResourceId ${currentPhysicalId(request)} is not <zone>|<name>|<type>`);
  }
  const spec = parseSpec(request.ResourceProperties);
  return { ...spec, hostedZoneId, recordName, recordType };
}

async function apply(spec: WeightedRecordsSpec, changes: RecordChange[], comment: string, deadlineMs: number) {
  const changeId = await applyChanges(spec, changes, comment);
  logger.info('Route 53 change submitted', { changeId, weights: describeWeights(changes), actions: changes.length });
  if (changeId && !(await waitInSync(changeId, deadlineMs))) {
    // The change is accepted and will propagate; failing now would roll back a change that is already made.
    logger.warn('Route 53 change not yet INSYNC when the handler had to return', { changeId });
  }
}

function respond(physicalId: string, changes: readonly RecordChange[]): OnEventResponse {
  return { PhysicalResourceId: physicalId, Data: { Weights: describeWeights(changes) } };
}
