/**
 * Event shapes of the CDK custom resource Provider framework (`aws-cdk-lib/custom-resources` `Provider`)
 * and small helpers shared by the handlers behind it.
 *
 * The framework calls the user's onEvent function with the CloudFormation request (ResponseURL
 * replaced), then — when an isComplete function is configured — calls isComplete with that request
 * merged with the onEvent result, again and again until it answers `IsComplete: true` or the
 * provider's total timeout passes. isComplete always receives the same event: anything it must
 * know between polls has to live in the onEvent result (PhysicalResourceId, Data) or in AWS itself.
 * The final response to CloudFormation is the onEvent result overlaid with the isComplete result;
 * Data from both is merged. isComplete must not return Data while incomplete (the framework fails).
 * See aws-cdk-lib/custom-resources/lib/provider-framework/types.d.ts.
 */

import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponseSuccess,
  CdkCustomResourceIsCompleteResponseWaiting,
  CdkCustomResourceResponse,
} from 'aws-lambda';
import { variablesOf } from './config';

export type RequestType = CdkCustomResourceEvent['RequestType'];

const REQUEST_TYPES: readonly RequestType[] = ['Create', 'Update', 'Delete'];

/** Resource properties as CloudFormation delivers them: scalars arrive as strings, objects stay objects. */
export type ResourceProperties = Readonly<Record<string, unknown>>;

/** Attribute values a handler returns; strings so that `getAttString` reads them without surprises. */
export type ResponseData = Readonly<Record<string, string>>;

/** What onEvent receives (`ResourceType` is `Custom::Something`, chosen by the construct). */
export type OnEventRequest = CdkCustomResourceEvent;

/** Omitting `PhysicalResourceId` keeps the current id (Update, Delete) or uses the RequestId (Create). */
export type OnEventResponse = CdkCustomResourceResponse<ResponseData>;

/** What isComplete receives: the request overlaid with the onEvent result, which always has a physical id. */
export type IsCompleteRequest = CdkCustomResourceIsCompleteEvent<
  CdkCustomResourceEvent['ResourceProperties'],
  ResponseData
> & { readonly PhysicalResourceId: string };

/**
 * `CdkCustomResourceIsCompleteResponse` plus the physical id a completed isComplete may set: the framework
 * overlays it on the onEvent result (a different id on Update makes CloudFormation delete the old one), but
 * @types/aws-lambda does not declare it.
 */
export type IsCompleteResponse =
  | CdkCustomResourceIsCompleteResponseWaiting
  | (CdkCustomResourceIsCompleteResponseSuccess<ResponseData> & { readonly PhysicalResourceId?: string });

/** The resource's current physical id: present on Update and Delete, absent on Create. */
export function currentPhysicalId(request: OnEventRequest): string | undefined {
  return request.RequestType === 'Create' ? undefined : request.PhysicalResourceId;
}

/** The properties before the change: present on Update only. */
export function oldPropertiesOf(request: OnEventRequest): ResourceProperties | undefined {
  return request.RequestType === 'Update' ? request.OldResourceProperties : undefined;
}

export const NOT_COMPLETE: IsCompleteResponse = { IsComplete: false };

/** The request or its properties are not what the construct sends; the message names the field. */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireField(event: Record<string, unknown>, name: string): string {
  const value = event[name];
  if (typeof value !== 'string' || value === '') {
    throw new InvalidRequestError(`Custom resource event field ${name} is missing or not a non-empty string`);
  }
  return value;
}

/**
 * Validates the envelope the framework delivers. The same shape is used for onEvent and isComplete;
 * isComplete callers use {@link parseIsCompleteRequest}, which also requires the physical id.
 */
export function parseOnEventRequest(event: unknown): OnEventRequest {
  if (!isRecord(event)) throw new InvalidRequestError('Custom resource event is not an object');
  const requestType = event['RequestType'];
  if (typeof requestType !== 'string' || !REQUEST_TYPES.includes(requestType as RequestType)) {
    throw new InvalidRequestError(
      `Custom resource event field RequestType is ${JSON.stringify(requestType)}; expected one of ${REQUEST_TYPES.join(', ')}`,
    );
  }
  const properties = event['ResourceProperties'];
  if (!isRecord(properties)) {
    throw new InvalidRequestError('Custom resource event field ResourceProperties is missing or not an object');
  }
  const oldProperties = event['OldResourceProperties'];
  if (oldProperties !== undefined && !isRecord(oldProperties)) {
    throw new InvalidRequestError('Custom resource event field OldResourceProperties is not an object');
  }
  const type = requestType as RequestType;
  const physicalId = event['PhysicalResourceId'];
  if (type !== 'Create' && (typeof physicalId !== 'string' || physicalId === '')) {
    throw new InvalidRequestError(`Custom resource ${type} event has no PhysicalResourceId`);
  }
  if (type === 'Update' && oldProperties === undefined) {
    throw new InvalidRequestError('Custom resource Update event has no OldResourceProperties');
  }
  for (const name of ['RequestId', 'StackId', 'LogicalResourceId', 'ResourceType']) requireField(event, name);
  return event as unknown as OnEventRequest;
}

export function parseIsCompleteRequest(event: unknown): IsCompleteRequest {
  const request = parseOnEventRequest(event);
  const physicalId = (event as Record<string, unknown>)['PhysicalResourceId'];
  if (typeof physicalId !== 'string' || physicalId === '') {
    throw new InvalidRequestError('isComplete event has no PhysicalResourceId (the framework always sets one)');
  }
  const data = (event as Record<string, unknown>)['Data'];
  if (data !== undefined && !isRecord(data))
    throw new InvalidRequestError('isComplete event field Data is not an object');
  const stringData: Record<string, string> = {};
  for (const [key, value] of Object.entries(data ?? {})) {
    if (typeof value === 'string') stringData[key] = value;
  }
  return { ...request, PhysicalResourceId: physicalId, Data: stringData } as IsCompleteRequest;
}

/** A string property the construct always sets. */
export function requireString(properties: ResourceProperties, name: string, where = 'ResourceProperties'): string {
  const value = properties[name];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidRequestError(`${where}.${name} is missing or empty`);
  }
  return value;
}

/** A string property that may be absent or empty; both read as undefined. */
export function optionalString(
  properties: ResourceProperties,
  name: string,
  where = 'ResourceProperties',
): string | undefined {
  const value = properties[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidRequestError(`${where}.${name} must be a string`);
  return value;
}

/** A nested object property (CloudFormation passes JSON objects through). */
export function requireObject(
  properties: ResourceProperties,
  name: string,
  where = 'ResourceProperties',
): ResourceProperties {
  const value = properties[name];
  if (!isRecord(value)) throw new InvalidRequestError(`${where}.${name} is missing or not an object`);
  return value;
}

/** A positive whole number delivered as a string (CloudFormation stringifies numbers). */
export function requirePositiveInteger(
  properties: ResourceProperties,
  name: string,
  where = 'ResourceProperties',
): number {
  const raw = requireString(properties, name, where);
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidRequestError(`${where}.${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The error's name, for classification (SDK v3 errors carry the service's exception name). */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** `Name: message`, short enough for a log line, an attribute or an operator's instructions. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Which of its Provider's two functions a bundle deployed twice is serving. */
export type ProviderPhase = 'onEvent' | 'isComplete';

/**
 * The variable of a handler deployed as both functions of one Provider (dms-task-manager,
 * datasync-agent-setup): its construct sets it per function; everything else comes with the event.
 */
export interface ProviderPhaseEnvironment {
  readonly CUSTOM_RESOURCE_PHASE: ProviderPhase;
}

/** The phase this deployment serves, from CUSTOM_RESOURCE_PHASE. */
export function providerPhase(env: NodeJS.ProcessEnv = process.env): ProviderPhase {
  const phase = variablesOf<ProviderPhaseEnvironment>(env).required('CUSTOM_RESOURCE_PHASE');
  if (phase !== 'onEvent' && phase !== 'isComplete') {
    throw new InvalidRequestError(`CUSTOM_RESOURCE_PHASE is ${JSON.stringify(phase)}; expected onEvent or isComplete`);
  }
  return phase;
}
