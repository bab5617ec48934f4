import type { EventBridgeEvent } from 'aws-lambda';

/**
 * Event shapes the data-path handlers accept, and hand-written guards that turn `unknown` into them.
 *
 * Every guard throws {@link MalformedEventError} naming the first field that is wrong and what was
 * expected, e.g. "detail.object.key is missing: expected an S3 Object Created event from EventBridge".
 * Optional fields are typed optional; a field that is present with the wrong type is still an error,
 * because it means the producer is not the one we think it is.
 */

/** Raised when an event does not have the documented shape; the message names the field. */
export class MalformedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedEventError';
  }
}

type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Field readers bound to the sentence that says what the whole event should have been. */
class Shape {
  constructor(private readonly expectation: string) {}

  fail(path: string, problem: string): never {
    throw new MalformedEventError(`${path} ${problem}: expected ${this.expectation}`);
  }

  private at(parent: string, key: string): string {
    return parent === '' ? key : `${parent}.${key}`;
  }

  object(value: unknown, path: string): Json {
    if (value === undefined) this.fail(path, 'is missing');
    if (!isRecord(value)) this.fail(path, `is ${kindOf(value)}, not an object`);
    return value;
  }

  child(parent: Json, parentPath: string, key: string): Json {
    return this.object(parent[key], this.at(parentPath, key));
  }

  string(parent: Json, parentPath: string, key: string): string {
    const path = this.at(parentPath, key);
    const value = parent[key];
    if (value === undefined || value === null) this.fail(path, 'is missing');
    if (typeof value !== 'string') this.fail(path, `is ${kindOf(value)}, not a string`);
    if (value.trim() === '') this.fail(path, 'is empty');
    return value;
  }

  optionalString(parent: Json, parentPath: string, key: string): string | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    return this.string(parent, parentPath, key);
  }

  number(parent: Json, parentPath: string, key: string): number {
    const path = this.at(parentPath, key);
    const value = parent[key];
    if (value === undefined || value === null) this.fail(path, 'is missing');
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(path, `is ${kindOf(value)}, not a number`);
    return value;
  }

  /** Free text that may legitimately be empty (messages, causes): empty reads as absent. */
  optionalText(parent: Json, parentPath: string, key: string): string | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') this.fail(this.at(parentPath, key), `is ${kindOf(value)}, not a string`);
    return value === '' ? undefined : value;
  }

  optionalNumber(parent: Json, parentPath: string, key: string): number | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    return this.number(parent, parentPath, key);
  }

  stringArray(parent: Json, parentPath: string, key: string): string[] {
    const path = this.at(parentPath, key);
    const value = parent[key];
    if (value === undefined || value === null) this.fail(path, 'is missing');
    if (!Array.isArray(value)) this.fail(path, `is ${kindOf(value)}, not an array`);
    value.forEach((item, i) => {
      if (typeof item !== 'string') this.fail(`${path}[${i}]`, `is ${kindOf(item)}, not a string`);
    });
    return value as string[];
  }

  equals<T extends string>(parent: Json, parentPath: string, key: string, expected: T): T {
    const actual = this.string(parent, parentPath, key);
    if (actual !== expected) this.fail(this.at(parentPath, key), `is '${actual}', not '${expected}'`);
    return expected;
  }
}

/** The envelope fields every EventBridge event carries (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html). */
function parseEnvelope(value: unknown, shape: Shape): Json {
  const event = shape.object(value, 'event');
  shape.string(event, '', 'id');
  shape.string(event, '', 'source');
  shape.string(event, '', 'detail-type');
  shape.string(event, '', 'region');
  shape.string(event, '', 'account');
  shape.string(event, '', 'time');
  shape.stringArray(event, '', 'resources');
  shape.child(event, '', 'detail');
  return event;
}

// ---------------------------------------------------------------------------------------------
// S3 "Object Created" via EventBridge (Glue trigger input, one per SQS record body)
// ---------------------------------------------------------------------------------------------

export interface S3ObjectCreatedDetail {
  version: string;
  bucket: { name: string };
  object: {
    /**
     * The object key as stored. Unlike S3 event notifications to SQS/SNS/Lambda (whose key is URL-encoded,
     * "red flower.jpg" arriving as "red+flower.jpg"), the EventBridge detail carries the key unencoded: the
     * S3 user guide's EventBridge message structure page documents no encoding, and decoding it would corrupt
     * keys that contain a literal '+' or '%'.
     */
    key: string;
    size: number;
    etag?: string;
    'version-id'?: string;
    sequencer?: string;
  };
  'request-id': string;
  requester?: string;
  reason?: string;
  'source-ip-address'?: string;
}

export type S3ObjectCreatedEvent = EventBridgeEvent<'Object Created', S3ObjectCreatedDetail>;

const S3_OBJECT_CREATED = new Shape('an S3 Object Created event from EventBridge');

export function parseS3ObjectCreatedEvent(value: unknown): S3ObjectCreatedEvent {
  const shape: Shape = S3_OBJECT_CREATED;
  const event = parseEnvelope(value, shape);
  shape.equals(event, '', 'source', 'aws.s3');
  shape.equals(event, '', 'detail-type', 'Object Created');
  const detail = shape.child(event, '', 'detail');
  const bucket = shape.child(detail, 'detail', 'bucket');
  const object = shape.child(detail, 'detail', 'object');
  const parsed: S3ObjectCreatedDetail = {
    version: shape.optionalString(detail, 'detail', 'version') ?? '0',
    bucket: { name: shape.string(bucket, 'detail.bucket', 'name') },
    object: {
      key: shape.string(object, 'detail.object', 'key'),
      size: shape.number(object, 'detail.object', 'size'),
      etag: shape.optionalString(object, 'detail.object', 'etag'),
      'version-id': shape.optionalString(object, 'detail.object', 'version-id'),
      sequencer: shape.optionalString(object, 'detail.object', 'sequencer'),
    },
    'request-id': shape.string(detail, 'detail', 'request-id'),
    requester: shape.optionalText(detail, 'detail', 'requester'),
    reason: shape.optionalText(detail, 'detail', 'reason'),
    'source-ip-address': shape.optionalText(detail, 'detail', 'source-ip-address'),
  };
  // Without a version id (or with 'null', which every upload shares while versioning is suspended) the
  // object's identity is its etag plus sequencer; with neither we cannot tell a duplicate event from a new
  // upload, so the event is unusable.
  const versionId = parsed.object['version-id'];
  if (versionId === undefined || versionId === 'null') {
    const why =
      versionId === undefined ? 'and so is detail.object.version-id' : "and detail.object.version-id is 'null'";
    if (parsed.object.etag === undefined) shape.fail('detail.object.etag', `is missing (${why})`);
    if (parsed.object.sequencer === undefined) shape.fail('detail.object.sequencer', `is missing (${why})`);
  }
  return { ...(event as unknown as S3ObjectCreatedEvent), detail: parsed };
}

// ---------------------------------------------------------------------------------------------
// Validation result published by the Glue job (SNS message body on the results topic)
// ---------------------------------------------------------------------------------------------

export type ValidationStatus = 'PASSED' | 'FAILED';

/** The summary the validation job publishes; `status`, `dataset` and `correlationId` are also message attributes. */
export interface ValidationResult {
  schemaVersion: number | string;
  status: ValidationStatus;
  /** Null when the job could not match the object to a dataset contract. */
  dataset: string | null;
  correlationId: string;
  bucket: string;
  key: string;
  /** Null for an object in an unversioned bucket. */
  versionId: string | null;
  reportKey: string;
  /** Where the job copied the object: under validated/ when PASSED, quarantine/ when FAILED. */
  destinationKey?: string;
  rowCount?: number;
  errorRows?: number;
  reasons: string[];
}

const VALIDATION_RESULT = new Shape('a validation result published by the Glue validation job');

export function parseValidationResult(value: unknown): ValidationResult {
  const shape: Shape = VALIDATION_RESULT;
  const body = shape.object(value, 'message');
  const schemaVersion = body.schemaVersion;
  if (schemaVersion === undefined || schemaVersion === null) shape.fail('schemaVersion', 'is missing');
  if (typeof schemaVersion !== 'number' && typeof schemaVersion !== 'string')
    shape.fail('schemaVersion', `is ${kindOf(schemaVersion)}, not a number or string`);
  const status = shape.string(body, '', 'status');
  if (status !== 'PASSED' && status !== 'FAILED') shape.fail('status', `is '${status}', not PASSED or FAILED`);
  return {
    schemaVersion,
    status,
    dataset: shape.optionalString(body, '', 'dataset') ?? null,
    correlationId: shape.string(body, '', 'correlationId'),
    bucket: shape.string(body, '', 'bucket'),
    key: shape.string(body, '', 'key'),
    versionId: shape.optionalString(body, '', 'versionId') ?? null,
    reportKey: shape.string(body, '', 'reportKey'),
    destinationKey: shape.optionalString(body, '', 'destinationKey'),
    rowCount: shape.optionalNumber(body, '', 'rowCount'),
    errorRows: shape.optionalNumber(body, '', 'errorRows'),
    reasons: body.reasons === undefined || body.reasons === null ? [] : shape.stringArray(body, '', 'reasons'),
  };
}

/** One SNS record, reduced to what the handlers use. */
export interface SnsNotification {
  messageId: string;
  topicArn: string;
  message: string;
  /** String-typed message attributes by name. */
  attributes: Record<string, string>;
}

const SNS_EVENT = new Shape('an SNS event delivered to Lambda');

/** Returns the SNS records of an SNSEvent, or throws naming what is missing. */
export function parseSnsNotifications(value: unknown): SnsNotification[] {
  const shape: Shape = SNS_EVENT;
  const event = shape.object(value, 'event');
  const records = event.Records;
  if (!Array.isArray(records) || records.length === 0) shape.fail('Records', 'is missing or empty');
  return records.map((raw, i) => {
    const path = `Records[${i}]`;
    const record = shape.object(raw, path);
    shape.equals(record, path, 'EventSource', 'aws:sns');
    const sns = shape.child(record, path, 'Sns');
    const attributes: Record<string, string> = {};
    const rawAttributes = sns.MessageAttributes;
    if (isRecord(rawAttributes)) {
      for (const [name, attr] of Object.entries(rawAttributes)) {
        if (isRecord(attr) && typeof attr.Value === 'string') attributes[name] = attr.Value;
      }
    }
    return {
      messageId: shape.string(sns, `${path}.Sns`, 'MessageId'),
      topicArn: shape.string(sns, `${path}.Sns`, 'TopicArn'),
      message: shape.string(sns, `${path}.Sns`, 'Message'),
      attributes,
    };
  });
}

/** Parses the JSON body of an SNS message into a validation result; names the record on failure. */
export function parseValidationNotification(notification: SnsNotification): ValidationResult {
  let body: unknown;
  try {
    body = JSON.parse(notification.message);
  } catch {
    throw new MalformedEventError(
      `Sns.Message of message ${notification.messageId} is not JSON: expected a validation result published by the Glue validation job`,
    );
  }
  return parseValidationResult(body);
}

// ---------------------------------------------------------------------------------------------
// Failure events that reach the remediation function
// ---------------------------------------------------------------------------------------------

/** https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html */
export interface GlueJobStateChangeDetail {
  jobName: string;
  jobRunId: string;
  state: string;
  severity?: string;
  message?: string;
}

/** https://docs.aws.amazon.com/dms/latest/userguide/CHAP_EventBridge.html */
export interface DmsStateChangeDetail {
  eventType: string;
  type?: string;
  category?: string;
  eventName?: string;
  resourceLink?: string;
  detailMessage?: string;
}

/** https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html */
export interface StepFunctionsExecutionStatusChangeDetail {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  input?: string;
  error?: string;
  cause?: string;
}

export type GlueJobStateChangeEvent = EventBridgeEvent<'Glue Job State Change', GlueJobStateChangeDetail>;
export type DmsReplicationTaskStateChangeEvent = EventBridgeEvent<
  'DMS Replication Task State Change',
  DmsStateChangeDetail
>;
/** DMS Serverless: the resource is a replication config, and a failure is REPLICATION_FAILED. */
export type DmsReplicationStateChangeEvent = EventBridgeEvent<'DMS Replication State Change', DmsStateChangeDetail>;
export type StepFunctionsExecutionStatusChangeEvent = EventBridgeEvent<
  'Step Functions Execution Status Change',
  StepFunctionsExecutionStatusChangeDetail
>;

export type RemediationEvent =
  | { kind: 'glue-job-state-change'; event: GlueJobStateChangeEvent }
  | { kind: 'dms-replication-task-state-change'; event: DmsReplicationTaskStateChangeEvent; taskArn: string }
  | { kind: 'dms-replication-state-change'; event: DmsReplicationStateChangeEvent; replicationConfigArn: string }
  | { kind: 'sfn-execution-status-change'; event: StepFunctionsExecutionStatusChangeEvent }
  | { kind: 'validation-notifications'; notifications: SnsNotification[] }
  /** A well-formed EventBridge event of a kind remediation does not handle. */
  | { kind: 'other-eventbridge-event'; id: string; source: string; detailType: string };

const REMEDIATION_INPUT = new Shape(
  'an EventBridge event (Glue Job State Change, DMS Replication [Task] State Change, Step Functions Execution Status Change) or an SNS event from the validation results topic',
);
const GLUE_EVENT = new Shape('a Glue Job State Change event from EventBridge');
const DMS_TASK_EVENT = new Shape('a DMS Replication Task State Change event from EventBridge');
const DMS_REPLICATION_EVENT = new Shape('a DMS Replication State Change event (DMS Serverless) from EventBridge');
const SFN_EVENT = new Shape('a Step Functions Execution Status Change event from EventBridge');

function parseDmsDetail(event: Json, shape: Shape): DmsStateChangeDetail {
  const detail = shape.child(event, '', 'detail');
  return {
    eventType: shape.string(detail, 'detail', 'eventType'),
    type: shape.optionalText(detail, 'detail', 'type'),
    category: shape.optionalText(detail, 'detail', 'category'),
    eventName: shape.optionalText(detail, 'detail', 'eventName'),
    resourceLink: shape.optionalText(detail, 'detail', 'resourceLink'),
    detailMessage: shape.optionalText(detail, 'detail', 'detailMessage'),
  };
}

/** DMS names the resource in `resources`, not in `detail`; pick the one with the expected ARN resource type. */
function dmsResource(event: Json, shape: Shape, resourceType: 'task' | 'replication-config'): string {
  const resources = shape.stringArray(event, '', 'resources');
  const arn = resources.find((r) => r.startsWith('arn:') && r.split(':')[5] === resourceType);
  if (arn === undefined) shape.fail('resources', `holds no DMS ${resourceType} ARN (got ${JSON.stringify(resources)})`);
  return arn;
}

/** Sorts a remediation input into one of the kinds above, validating the kinds it knows. */
export function parseRemediationEvent(value: unknown): RemediationEvent {
  const root = REMEDIATION_INPUT.object(value, 'event');
  if (Array.isArray(root.Records)) {
    return { kind: 'validation-notifications', notifications: parseSnsNotifications(root) };
  }
  if (root['detail-type'] === undefined && root.source === undefined) {
    REMEDIATION_INPUT.fail('event', 'has neither Records nor detail-type/source');
  }
  const envelope = parseEnvelope(root, REMEDIATION_INPUT);
  const source = envelope.source as string;
  const detailType = envelope['detail-type'] as string;

  if (source === 'aws.glue' && detailType === 'Glue Job State Change') {
    const shape: Shape = GLUE_EVENT;
    const detail = shape.child(envelope, '', 'detail');
    const parsed: GlueJobStateChangeDetail = {
      jobName: shape.string(detail, 'detail', 'jobName'),
      jobRunId: shape.string(detail, 'detail', 'jobRunId'),
      state: shape.string(detail, 'detail', 'state'),
      severity: shape.optionalText(detail, 'detail', 'severity'),
      message: shape.optionalText(detail, 'detail', 'message'),
    };
    return {
      kind: 'glue-job-state-change',
      event: { ...(envelope as unknown as GlueJobStateChangeEvent), detail: parsed },
    };
  }
  if (source === 'aws.dms' && detailType === 'DMS Replication Task State Change') {
    const detail = parseDmsDetail(envelope, DMS_TASK_EVENT);
    return {
      kind: 'dms-replication-task-state-change',
      event: { ...(envelope as unknown as DmsReplicationTaskStateChangeEvent), detail },
      taskArn: dmsResource(envelope, DMS_TASK_EVENT, 'task'),
    };
  }
  if (source === 'aws.dms' && detailType === 'DMS Replication State Change') {
    const detail = parseDmsDetail(envelope, DMS_REPLICATION_EVENT);
    return {
      kind: 'dms-replication-state-change',
      event: { ...(envelope as unknown as DmsReplicationStateChangeEvent), detail },
      replicationConfigArn: dmsResource(envelope, DMS_REPLICATION_EVENT, 'replication-config'),
    };
  }
  if (source === 'aws.states' && detailType === 'Step Functions Execution Status Change') {
    const shape: Shape = SFN_EVENT;
    const detail = shape.child(envelope, '', 'detail');
    const parsed: StepFunctionsExecutionStatusChangeDetail = {
      executionArn: shape.string(detail, 'detail', 'executionArn'),
      stateMachineArn: shape.string(detail, 'detail', 'stateMachineArn'),
      name: shape.string(detail, 'detail', 'name'),
      status: shape.string(detail, 'detail', 'status'),
      input: shape.optionalText(detail, 'detail', 'input'),
      error: shape.optionalText(detail, 'detail', 'error'),
      cause: shape.optionalText(detail, 'detail', 'cause'),
    };
    return {
      kind: 'sfn-execution-status-change',
      event: { ...(envelope as unknown as StepFunctionsExecutionStatusChangeEvent), detail: parsed },
    };
  }
  return { kind: 'other-eventbridge-event', id: envelope.id as string, source, detailType };
}
