import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { S3EventNotificationEventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/s3';
import { SnsSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import { z } from 'zod';

/**
 * Event shapes the data-path handlers accept: the Powertools Parser's built-in zod schemas, narrowed where a
 * handler needs more than the schema promises (a non-empty key, a size, a known detail-type).
 *
 * Every parser throws {@link MalformedEventError} naming the first field that is wrong and what was expected,
 * e.g. "detail.object.key is missing: expected an S3 Object Created event from EventBridge". Zod's own messages
 * ("Invalid input: expected string, received undefined") name no field, so {@link describeIssue} words them.
 * Optional fields are typed optional; a field that is present with the wrong type is still an error, because it
 * means the producer is not the one we think it is.
 */

/** Raised when an event does not have the documented shape; the message names the field. */
export class MalformedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedEventError';
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function pathOf(path: readonly PropertyKey[], root: string): string {
  if (path.length === 0) return root;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** One zod issue as "<field> <problem>", the field read from the input so the message shows what arrived. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown, root: string): string {
  const path = pathOf(issue.path, root);
  if (issue.code === 'custom') return `${path} ${issue.message}`;
  const value = valueAt(input, issue.path);
  if (value === undefined || value === null) return `${path} is missing`;
  switch (issue.code) {
    case 'invalid_type': {
      const expected =
        issue.expected === 'object' || issue.expected === 'array' ? `an ${issue.expected}` : `a ${issue.expected}`;
      return `${path} is ${kindOf(value)}, not ${expected}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `${path} is '${String(value)}', not '${String(issue.values[0])}'`
        : `${path} is '${String(value)}', not ${issue.values.map(String).join(' or ')}`;
    case 'too_small':
      return `${path} is empty`;
    default:
      return `${path} ${issue.message}`;
  }
}

/** Parses `value` with `schema`, or throws naming the first wrong field and what the whole event should have been. */
function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  expectation: string,
  root = 'event',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const problem = first === undefined ? `${root} is invalid` : describeIssue(first, value, root);
  throw new MalformedEventError(`${problem}: expected ${expectation}`);
}

/** A string that must say something: blank counts as wrong, not as a value. */
const text = z.string().refine((s) => s.trim() !== '', 'is empty');
/** Free text that may legitimately be empty or null (messages, causes): both read as absent. */
const optionalText = z
  .string()
  .nullish()
  .transform((s) => (s === '' || s === null ? undefined : s));
/** An optional field that, when present, must say something; null reads as absent. */
const optionalNonBlank = text.nullish().transform((s) => s ?? undefined);
/** Every EventBridge event's envelope with its detail required to be an object. */
const EventBridgeEnvelopeSchema = EventBridgeSchema.extend({ detail: z.looseObject({}) });

// ---------------------------------------------------------------------------------------------
// S3 "Object Created" via EventBridge (Glue trigger input, one per SQS record body)
// ---------------------------------------------------------------------------------------------

const S3_OBJECT_CREATED = 'an S3 Object Created event from EventBridge';
const s3Detail = S3EventNotificationEventBridgeSchema.shape.detail;

const S3ObjectCreatedSchema = S3EventNotificationEventBridgeSchema.extend({
  source: z.literal('aws.s3'),
  'detail-type': z.literal('Object Created'),
  detail: s3Detail
    .extend({
      version: z.string().optional().default('0'),
      object: s3Detail.shape.object.extend({
        /**
         * The object key as stored. Unlike S3 event notifications to SQS/SNS/Lambda (whose key is URL-encoded,
         * "red flower.jpg" arriving as "red+flower.jpg"), the EventBridge detail carries the key unencoded: the
         * S3 user guide's EventBridge message structure page documents no encoding, and decoding it would
         * corrupt keys that contain a literal '+' or '%'.
         */
        key: text,
        // Optional in the built-in schema because deletions have none; every Object Created event has one.
        size: z.number().nonnegative(),
        etag: optionalNonBlank,
        'version-id': optionalNonBlank,
        sequencer: optionalNonBlank,
      }),
      'request-id': text,
      // The built-in schema requires a requester and an IPv4 source address; neither is ours to insist on.
      requester: optionalText,
      reason: optionalText,
      'source-ip-address': optionalText,
    })
    .superRefine((detail, ctx) => {
      // Without a version id (or with 'null', which every upload shares while versioning is suspended) the
      // object's identity is its etag plus sequencer; with neither we cannot tell a duplicate event from a new
      // upload, so the event is unusable.
      const versionId = detail.object['version-id'];
      if (versionId !== undefined && versionId !== 'null') return;
      const why =
        versionId === undefined ? 'and so is detail.object.version-id' : "and detail.object.version-id is 'null'";
      for (const field of ['etag', 'sequencer'] as const) {
        if (detail.object[field] === undefined) {
          ctx.addIssue({ code: 'custom', path: ['object', field], message: `is missing (${why})` });
          return;
        }
      }
    }),
});

export type S3ObjectCreatedEvent = z.output<typeof S3ObjectCreatedSchema>;

export function parseS3ObjectCreatedEvent(value: unknown): S3ObjectCreatedEvent {
  return parseOrThrow(S3ObjectCreatedSchema, value, S3_OBJECT_CREATED);
}

// ---------------------------------------------------------------------------------------------
// Validation result published by the Glue job (SNS message body on the results topic)
// ---------------------------------------------------------------------------------------------

const VALIDATION_RESULT = 'a validation result published by the Glue validation job';

const ValidationResultSchema = z.object({
  schemaVersion: z.union([z.number(), z.string()], { error: 'is not a number or string' }),
  status: z.enum(['PASSED', 'FAILED']),
  /** Null when the job could not match the object to a dataset contract. */
  dataset: optionalNonBlank.transform((s) => s ?? null),
  correlationId: text,
  bucket: text,
  key: text,
  /** Null for an object in an unversioned bucket. */
  versionId: optionalNonBlank.transform((s) => s ?? null),
  reportKey: text,
  /** Where the job copied the object: under validated/ when PASSED, quarantine/ when FAILED. */
  destinationKey: optionalNonBlank,
  rowCount: z
    .number()
    .nullish()
    .transform((n) => n ?? undefined),
  errorRows: z
    .number()
    .nullish()
    .transform((n) => n ?? undefined),
  reasons: z
    .array(z.string())
    .nullish()
    .transform((r) => r ?? []),
});

/** The summary the validation job publishes; `status`, `dataset` and `correlationId` are also message attributes. */
export type ValidationResult = z.output<typeof ValidationResultSchema>;

export function parseValidationResult(value: unknown): ValidationResult {
  return parseOrThrow(ValidationResultSchema, value, VALIDATION_RESULT, 'message');
}

/** One SNS record, reduced to what the handlers use. */
export interface SnsNotification {
  messageId: string;
  topicArn: string;
  message: string;
  /** String-typed message attributes by name. */
  attributes: Record<string, string>;
}

/**
 * Returns the SNS records of an SNSEvent, or throws naming what is wrong. Not the Parser's SnsEnvelope: it
 * returns the messages alone, and the handlers also need each message's id and attributes.
 */
export function parseSnsNotifications(value: unknown): SnsNotification[] {
  const event = parseOrThrow(SnsSchema, value, 'an SNS event delivered to Lambda');
  return event.Records.map(({ Sns: sns }) => ({
    messageId: sns.MessageId,
    topicArn: sns.TopicArn,
    message: sns.Message,
    attributes: Object.fromEntries(Object.entries(sns.MessageAttributes ?? {}).map(([name, a]) => [name, a.Value])),
  }));
}

/** Parses the JSON body of an SNS message into a validation result; names the record on failure. */
export function parseValidationNotification(notification: SnsNotification): ValidationResult {
  let body: unknown;
  try {
    body = JSON.parse(notification.message);
  } catch {
    throw new MalformedEventError(
      `Sns.Message of message ${notification.messageId} is not JSON: expected ${VALIDATION_RESULT}`,
    );
  }
  return parseValidationResult(body);
}

// ---------------------------------------------------------------------------------------------
// Failure events that reach the remediation function
// ---------------------------------------------------------------------------------------------

/** https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html */
const GlueJobStateChangeSchema = EventBridgeEnvelopeSchema.extend({
  detail: z.object({
    jobName: text,
    jobRunId: text,
    state: text,
    severity: optionalText,
    message: optionalText,
  }),
});

/** https://docs.aws.amazon.com/dms/latest/userguide/CHAP_EventBridge.html */
const DmsStateChangeSchema = EventBridgeEnvelopeSchema.extend({
  detail: z.object({
    eventType: text,
    type: optionalText,
    category: optionalText,
    eventName: optionalText,
    resourceLink: optionalText,
    detailMessage: optionalText,
  }),
});

/** https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html */
const StepFunctionsExecutionStatusChangeSchema = EventBridgeEnvelopeSchema.extend({
  detail: z.object({
    executionArn: text,
    stateMachineArn: text,
    name: text,
    status: text,
    input: optionalText,
    error: optionalText,
    cause: optionalText,
  }),
});

export type GlueJobStateChangeEvent = z.output<typeof GlueJobStateChangeSchema>;
/** DMS (classic) and DMS Serverless (the resource is a replication config, a failure is REPLICATION_FAILED). */
export type DmsStateChangeEvent = z.output<typeof DmsStateChangeSchema>;
export type StepFunctionsExecutionStatusChangeEvent = z.output<typeof StepFunctionsExecutionStatusChangeSchema>;

export type RemediationEvent =
  | { kind: 'glue-job-state-change'; event: GlueJobStateChangeEvent }
  | { kind: 'dms-replication-task-state-change'; event: DmsStateChangeEvent; taskArn: string }
  | { kind: 'dms-replication-state-change'; event: DmsStateChangeEvent; replicationConfigArn: string }
  | { kind: 'sfn-execution-status-change'; event: StepFunctionsExecutionStatusChangeEvent }
  | { kind: 'validation-notifications'; notifications: SnsNotification[] }
  /** A well-formed EventBridge event of a kind remediation does not handle. */
  | { kind: 'other-eventbridge-event'; id: string; source: string; detailType: string };

/** Any JSON object: the first look at a remediation input, before it is sorted by kind. */
const AnyObjectSchema = z.looseObject({});

const REMEDIATION_INPUT =
  'an EventBridge event (Glue Job State Change, DMS Replication [Task] State Change, Step Functions Execution Status Change) or an SNS event from the validation results topic';

/** DMS names the resource in `resources`, not in `detail`; pick the one with the expected ARN resource type. */
function dmsResource(
  event: DmsStateChangeEvent,
  resourceType: 'task' | 'replication-config',
  expectation: string,
): string {
  const arn = event.resources.find((r) => r.startsWith('arn:') && r.split(':')[5] === resourceType);
  if (arn === undefined) {
    throw new MalformedEventError(
      `resources holds no DMS ${resourceType} ARN (got ${JSON.stringify(event.resources)}): expected ${expectation}`,
    );
  }
  return arn;
}

/** Sorts a remediation input into one of the kinds above, validating the kinds it knows. */
export function parseRemediationEvent(value: unknown): RemediationEvent {
  const root = parseOrThrow(AnyObjectSchema, value, REMEDIATION_INPUT);
  if (Array.isArray(root.Records)) {
    return { kind: 'validation-notifications', notifications: parseSnsNotifications(root) };
  }
  if (root['detail-type'] === undefined && root.source === undefined) {
    throw new MalformedEventError(`event has neither Records nor detail-type/source: expected ${REMEDIATION_INPUT}`);
  }
  const envelope = parseOrThrow(EventBridgeEnvelopeSchema, root, REMEDIATION_INPUT);
  const { source, 'detail-type': detailType } = envelope;

  if (source === 'aws.glue' && detailType === 'Glue Job State Change') {
    const event = parseOrThrow(GlueJobStateChangeSchema, root, 'a Glue Job State Change event from EventBridge');
    return { kind: 'glue-job-state-change', event };
  }
  if (source === 'aws.dms' && detailType === 'DMS Replication Task State Change') {
    const expectation = 'a DMS Replication Task State Change event from EventBridge';
    const event = parseOrThrow(DmsStateChangeSchema, root, expectation);
    return { kind: 'dms-replication-task-state-change', event, taskArn: dmsResource(event, 'task', expectation) };
  }
  if (source === 'aws.dms' && detailType === 'DMS Replication State Change') {
    const expectation = 'a DMS Replication State Change event (DMS Serverless) from EventBridge';
    const event = parseOrThrow(DmsStateChangeSchema, root, expectation);
    return {
      kind: 'dms-replication-state-change',
      event,
      replicationConfigArn: dmsResource(event, 'replication-config', expectation),
    };
  }
  if (source === 'aws.states' && detailType === 'Step Functions Execution Status Change') {
    const expectation = 'a Step Functions Execution Status Change event from EventBridge';
    return {
      kind: 'sfn-execution-status-change',
      event: parseOrThrow(StepFunctionsExecutionStatusChangeSchema, root, expectation),
    };
  }
  return { kind: 'other-eventbridge-event', id: envelope.id, source, detailType };
}
