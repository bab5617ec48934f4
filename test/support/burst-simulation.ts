import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  ConcurrentRunsExceededException,
  GetJobRunsCommand,
  GlueClient,
  InternalServiceException,
  StartJobRunCommand,
  ThrottlingException,
} from '@aws-sdk/client-glue';
import { ChangeMessageVisibilityBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { TriggerSettings } from './trigger-settings';

/**
 * A burst through the trigger hop in virtual time: an SQS queue with the synthesized visibility timeout and
 * redrive bound, Lambda's pollers with the synthesized batch size, window and maximum concurrency, the REAL
 * glue-trigger handler, and a Glue job that runs at most `concurrency` runs (a run takes a start-up time plus
 * time per object and per byte). AWS clients are fakes (`fakeClient`) backed by in-memory state; the clock
 * is a number advanced by the loop (Date.now is replaced while the simulation runs). No real timers.
 */

export interface BurstCase {
  objects: number;
  duplicates: number;
  concurrency: number;
  /** Bytes per object. */
  objectBytes: number;
  /** Share of StartJobRun, PutItem and UpdateItem calls that fail transiently. */
  transientErrorRate: number;
  seed: number;
}

/** The Glue run model (docs/bursts.md): figures a G.1X × 2 job shows for small CSV files. */
export const RUN_MODEL = {
  startupSeconds: 90,
  perObjectSeconds: 0.6,
  bytesPerSecond: 25 * 1024 * 1024,
  dpu: 2,
  minimumBilledSeconds: 60,
  usdPerDpuHour: 0.44,
};

export interface BurstResult {
  /** Seconds from the first object landing to the last object validated. */
  drainSeconds: number;
  jobRuns: number;
  validated: Map<string, number>;
  distinct: Set<string>;
  deadLettered: { body: string; error?: string }[];
  glueCostUsd: number;
  costPer1000Usd: number;
  /** What one run per object would have cost (the model above), for comparison. */
  perObjectCostPer1000Usd: number;
  invocations: number;
  glueFullAnswers: number;
}

const START = Date.UTC(2026, 11, 5, 12, 0, 0);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Fake = (input: any) => unknown;

/**
 * Routes `send` of every instance of a client class to the fake for the command's class, with the
 * `on(Command).callsFake(fake)` and `restore()` of aws-sdk-client-mock's `mockClient`, but without sinon:
 * its per-call argument matching and call history were about a third of this simulation's CPU time (tens of
 * thousands of calls a case), and nothing here reads them. A command without a fake resolves to undefined,
 * as with `mockClient`.
 */
function fakeClient(client: { prototype: object }) {
  const fakes = new Map<unknown, Fake>();
  const proto = client.prototype as { send?: unknown };
  const own = Object.prototype.hasOwnProperty.call(proto, 'send');
  const original = proto.send;
  proto.send = async function send(command: { input: unknown }): Promise<unknown> {
    return fakes.get(command.constructor)?.(command.input);
  };
  return {
    on: (command: abstract new (...args: any[]) => unknown) => ({
      callsFake: (fake: Fake) => void fakes.set(command, fake),
    }),
    restore: () => {
      if (own) proto.send = original;
      else delete proto.send;
    },
  };
}

export function runSeconds(objects: number, bytes: number): number {
  return RUN_MODEL.startupSeconds + objects * RUN_MODEL.perObjectSeconds + bytes / RUN_MODEL.bytesPerSecond;
}

function runCostUsd(seconds: number): number {
  return (RUN_MODEL.dpu * Math.max(RUN_MODEL.minimumBilledSeconds, seconds) * RUN_MODEL.usdPerDpuHour) / 3600;
}

interface Message {
  id: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
  receipt: string;
  done: boolean;
}

interface Run {
  id: string;
  state: 'RUNNING' | 'SUCCEEDED';
  startedAt: number;
  endsAt: number;
  args: Record<string, string>;
}

export async function simulateBurst(
  settings: TriggerSettings,
  handler: (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
  burst: BurstCase,
  limitSeconds = 24 * 3600,
): Promise<BurstResult> {
  const random = rng(burst.seed);
  let now = START;
  const realNow = Date.now;
  const realRandom = Math.random;
  Date.now = () => now;
  Math.random = random; // the handler's jitter, reproducible per seed
  const env: Record<string, string> = {
    ...settings.environment,
    QUEUE_URL: 'queue',
    DEAD_LETTER_QUEUE_URL: 'dlq',
    STATE_TABLE_NAME: 'state',
  };
  const savedEnv = { ...process.env };
  Object.assign(process.env, env);

  const glue = fakeClient(GlueClient);
  const dynamodb = fakeClient(DynamoDBDocumentClient);
  const sqs = fakeClient(SQSClient);
  const transient = () => random() < burst.transientErrorRate;

  // ---- the queue ----------------------------------------------------------------------------
  const messages: Message[] = [];
  const byReceipt = new Map<string, Message>();
  const deadLettered: BurstResult['deadLettered'] = [];
  let receipts = 0;
  const event = (key: string, version: string) =>
    JSON.stringify({
      version: '0',
      id: `ev-${key}`,
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '123456789012',
      time: new Date(now).toISOString(),
      region: 'us-west-2',
      resources: ['arn:aws:s3:::data-bucket'],
      detail: {
        version: '0',
        bucket: { name: env.DATA_BUCKET_NAME },
        object: { key, size: burst.objectBytes, etag: 'e', 'version-id': version, sequencer: '00' },
        'request-id': 'r',
        requester: '123456789012',
      },
    });
  const arrivals: { at: number; body: string }[] = [];
  for (let i = 0; i < burst.objects; i++) {
    // DataSync lands the burst within five minutes.
    arrivals.push({ at: START + random() * 300_000, body: event(`incoming/sales/file-${i}.csv`, `v${i}`) });
  }
  for (let i = 0; i < burst.duplicates; i++) {
    const n = Math.floor(random() * burst.objects);
    // Redeliveries arrive during the burst and up to an hour after it.
    arrivals.push({ at: START + random() * 3_600_000, body: event(`incoming/sales/file-${n}.csv`, `v${n}`) });
  }
  arrivals.sort((a, b) => a.at - b.at);

  // ---- the state table ----------------------------------------------------------------------
  // Items as the Document client reads and writes them (plain values); a failed condition carries the item in
  // AttributeValue form, as the Document client leaves it on the exception.
  type Item = Record<string, unknown>;
  const table = new Map<string, Item>();
  const conditionFailed = (item?: Item) =>
    new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: item === undefined ? undefined : marshall(item),
    });
  dynamodb.on(PutCommand).callsFake((input: { Item: Item }) => {
    if (transient())
      throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    const id = input.Item.id as string;
    const old = table.get(id);
    const expired =
      old?.claimState === 'IN_PROGRESS' &&
      ((old.leaseExpiresAt as number | undefined) ?? Number.POSITIVE_INFINITY) < now;
    if (old !== undefined && !expired) throw conditionFailed(old);
    table.set(id, { ...input.Item });
    return { Attributes: old };
  });
  dynamodb
    .on(UpdateCommand)
    .callsFake(
      (input: {
        Key: { id: string };
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues: Item;
      }) => {
        if (transient())
          throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
        const item = table.get(input.Key.id);
        const values = input.ExpressionAttributeValues;
        if (item?.leaseOwner !== values[':owner'] || item?.claimState !== 'IN_PROGRESS') throw conditionFailed();
        item.claimState = 'COMPLETED';
        delete item.leaseExpiresAt;
        for (const [alias, name] of Object.entries(input.ExpressionAttributeNames ?? {})) {
          item[name] = values[`:${alias.slice(1)}`];
        }
        return {};
      },
    );
  dynamodb.on(DeleteCommand).callsFake((input: { Key: { id: string } }) => {
    table.delete(input.Key.id);
    return {};
  });
  dynamodb.on(GetCommand).callsFake((input: { Key: { id: string } }) => ({ Item: table.get(input.Key.id) }));

  // ---- Glue ---------------------------------------------------------------------------------
  const runs: Run[] = [];
  const validated = new Map<string, number>();
  let glueCostUsd = 0;
  let glueFullAnswers = 0;
  const running = () => runs.filter((r) => r.state === 'RUNNING').length;
  glue.on(GetJobRunsCommand).callsFake((input: { NextToken?: string; MaxResults?: number }) => {
    const offset = Number(input.NextToken ?? 0);
    const page = [...runs]
      .reverse()
      .slice(offset, offset + (input.MaxResults ?? 200))
      .map((r) => ({ Id: r.id, JobRunState: r.state, StartedOn: new Date(r.startedAt), Arguments: r.args }));
    const next = offset + page.length < runs.length ? String(offset + page.length) : undefined;
    return { JobRuns: page, NextToken: next };
  });
  glue.on(StartJobRunCommand).callsFake((input: { Arguments: Record<string, string> }) => {
    if (transient() && random() < 0.5) throw new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });
    if (running() >= burst.concurrency) {
      glueFullAnswers++;
      throw new ConcurrentRunsExceededException({ message: 'Concurrent runs exceeded', $metadata: {} });
    }
    const objects = JSON.parse(input.Arguments['--objects']!) as unknown[];
    const seconds = runSeconds(objects.length, objects.length * burst.objectBytes);
    const run: Run = {
      id: `jr_${runs.length}`,
      state: 'RUNNING',
      startedAt: now,
      endsAt: now + seconds * 1000,
      args: input.Arguments,
    };
    runs.push(run);
    glueCostUsd += runCostUsd(seconds);
    // The run started, but the answer is lost on the way back: the handler cannot know it started.
    if (transient()) throw new InternalServiceException({ message: 'Internal failure', $metadata: {} });
    return { JobRunId: run.id };
  });

  // ---- SQS calls the handler makes ------------------------------------------------------------
  sqs
    .on(ChangeMessageVisibilityBatchCommand)
    .callsFake((input: { Entries: { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[] }) => {
      for (const entry of input.Entries) {
        const message = byReceipt.get(entry.ReceiptHandle);
        if (message) message.visibleAt = now + entry.VisibilityTimeout * 1000;
      }
      return { Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
    });
  sqs
    .on(SendMessageCommand)
    .callsFake((input: { MessageBody: string; MessageAttributes?: Record<string, { StringValue?: string }> }) => {
      deadLettered.push({ body: input.MessageBody, error: input.MessageAttributes?.error?.StringValue });
      return { MessageId: `dlq-${deadLettered.length}` };
    });

  // ---- the loop -----------------------------------------------------------------------------
  const pollers = Array.from({ length: settings.maxConcurrency }, () => ({
    windowStart: undefined as number | undefined,
  }));
  const stepMs = 1000;
  const distinct = new Set<string>();
  let nextArrival = 0;
  let invocations = 0;
  let lastValidation = START;
  const silence = process.stdout.write.bind(process.stdout);
  try {
    process.stdout.write = () => true; // the handler's log and EMF lines
    while (now - START < limitSeconds * 1000) {
      while (nextArrival < arrivals.length && arrivals[nextArrival]!.at <= now) {
        const { body } = arrivals[nextArrival++]!;
        messages.push({ id: `m-${messages.length}`, body, receiveCount: 0, visibleAt: now, receipt: '', done: false });
      }
      for (const run of runs) {
        if (run.state === 'RUNNING' && run.endsAt <= now) {
          run.state = 'SUCCEEDED';
          for (const o of JSON.parse(run.args['--objects']!) as { correlationId: string }[]) {
            validated.set(o.correlationId, (validated.get(o.correlationId) ?? 0) + 1);
          }
          lastValidation = now;
        }
      }
      const visible = messages.filter((m) => !m.done && m.visibleAt <= now);
      for (const poller of pollers) {
        const ready = visible.filter((m) => m.visibleAt <= now);
        if (ready.length === 0) {
          poller.windowStart = undefined;
          continue;
        }
        poller.windowStart ??= now;
        const windowOver = now - poller.windowStart >= settings.maxBatchingWindowSeconds * 1000;
        if (ready.length < settings.batchSize && !windowOver) continue;
        poller.windowStart = undefined;
        const batch: Message[] = [];
        for (const m of ready) {
          if (batch.length >= settings.batchSize) break;
          m.receiveCount++;
          if (m.receiveCount > settings.maxReceiveCount) {
            // SQS's redrive: received once too often, moved to the dead-letter queue without a reason.
            m.done = true;
            deadLettered.push({ body: m.body });
            continue;
          }
          m.receipt = `rh-${receipts++}`;
          byReceipt.set(m.receipt, m);
          m.visibleAt = now + settings.visibilityTimeoutSeconds * 1000;
          batch.push(m);
        }
        if (batch.length === 0) continue;
        const records = batch.map(
          (m) =>
            ({
              messageId: m.id,
              receiptHandle: m.receipt,
              body: m.body,
              attributes: { ApproximateReceiveCount: String(m.receiveCount) },
            }) as unknown as SQSRecord,
        );
        invocations++;
        const context = {
          awsRequestId: `req-${invocations}`,
          getRemainingTimeInMillis: () => settings.timeoutSeconds * 1000,
        } as unknown as Context;
        let failed: Set<string>;
        try {
          const out = await handler({ Records: records }, context);
          failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
        } catch {
          failed = new Set(batch.map((m) => m.id)); // a failed invocation returns the whole batch
        }
        for (const m of batch) {
          if (!failed.has(m.id)) m.done = true;
          byReceipt.delete(m.receipt);
        }
      }
      const pending = messages.some((m) => !m.done) || nextArrival < arrivals.length || running() > 0;
      if (!pending) break;
      now += stepMs;
    }
  } finally {
    process.stdout.write = silence;
    Date.now = realNow;
    Math.random = realRandom;
    glue.restore();
    dynamodb.restore();
    sqs.restore();
    for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
    Object.assign(process.env, savedEnv);
  }
  for (const a of arrivals) {
    const body = JSON.parse(a.body) as { detail: { object: { key: string } } };
    distinct.add(body.detail.object.key);
  }
  const objectsValidated = [...validated.values()].reduce((a, b) => a + b, 0);
  return {
    drainSeconds: (lastValidation - START) / 1000,
    jobRuns: runs.length,
    validated,
    distinct,
    deadLettered,
    glueCostUsd,
    costPer1000Usd: (glueCostUsd / Math.max(1, objectsValidated)) * 1000,
    perObjectCostPer1000Usd: runCostUsd(runSeconds(1, burst.objectBytes)) * 1000,
    invocations,
    glueFullAnswers,
    runs,
  } as BurstResult;
}
