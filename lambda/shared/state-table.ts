import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tracer } from './powertools';

/**
 * The pipeline's state table: partition key `id` (S), TTL attribute `expiration` (epoch seconds).
 *
 * It holds three kinds of items:
 * - claims (`acquire` / `complete` / `release`): "this piece of work is being done, or was done, by X".
 *   A claim carries a lease that ends when the claiming invocation's own deadline passes, so an expired
 *   lease proves its holder is dead (Lambda has stopped it) rather than merely slow; only then may
 *   another invocation take the work over.
 * - attempt records (`readAttemptRecord` / `advanceAttempts`), e.g. remediation re-runs per object, advanced
 *   only by a conditional write so two invocations never both take the same attempt;
 * - windowed counters (`bumpWindowedCounter`), e.g. DMS recoveries per task per day.
 *
 * Why not Powertools Idempotency: it covers one function call per key (INPROGRESS until the invocation's
 * deadline, the stored result returned to a later duplicate, the record deleted when the call throws), and
 * each claim here needs what it cannot express:
 * - one unit of work under many keys: the Glue trigger claims every object of a batch, then starts one run;
 * - takeover with the dead holder's data: an expired claim hands its `batchId` to the taker, which looks for a
 *   run the holder may have started (StartJobRun has no idempotency token); Idempotency writes no caller data
 *   into an in-progress record and simply runs the function again;
 * - release only when the work certainly did not happen: after a timeout the claim is kept until its lease
 *   ends, where Idempotency deletes the record on any error;
 * - attempt records and windowed counters are conditional counters, not idempotency.
 */

/**
 * Items as plain values: the Document client marshals requests and unmarshals responses. Undefined values are
 * left out rather than refused (optional claim fields). It sends through `client`, so its tracing applies.
 */
export const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

const documents = documentClient(tracer.captureAWSv3Client(new DynamoDBClient({})));

export type ClaimState = 'IN_PROGRESS' | 'COMPLETED';

export interface Claim {
  id: string;
  state: ClaimState;
  leaseOwner?: string;
  /** Epoch milliseconds. */
  leasedAt?: number;
  /** Epoch milliseconds. */
  leaseExpiresAt?: number;
  /** String attributes written by `complete`, e.g. `jobRunId`. */
  attributes: Record<string, string>;
}

export interface Lease {
  key: string;
  owner: string;
  leasedAt: number;
  /** Set when this lease replaced an expired one whose holder died before completing. */
  takenOverFrom?: Claim;
}

export type AcquireResult =
  | { status: 'acquired'; lease: Lease }
  | { status: 'completed'; claim: Claim }
  | { status: 'in-progress'; claim: Claim };

export interface AttemptRecord {
  /** The last attempt number taken, 0 if none. */
  attempts: number;
  /** Who took it, e.g. the claim key of the event whose remediation took it. */
  claimedBy?: string;
  /** Epoch milliseconds. */
  claimedAt?: number;
}

export interface AcquireOptions {
  /** Unique per attempt, e.g. the Lambda request id. */
  owner: string;
  /** Epoch milliseconds. */
  now: number;
  /** Epoch milliseconds after which the holder is certainly no longer running: its invocation deadline. */
  leaseExpiresAt: number;
  /** How long the item is kept (TTL) after it is written. */
  ttlSeconds: number;
  /**
   * String attributes written with the claim, e.g. the `batchId` of the run the holder is about to start, so a
   * taker of an expired claim knows which run to look for. Names must not be the table's own fields.
   */
  attributes?: Record<string, string>;
}

const CLAIM_FIELDS = new Set([
  'id',
  'claimState',
  'leaseOwner',
  'leasedAt',
  'leaseExpiresAt',
  'expiration',
  'completedAt',
]);

type Item = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/**
 * The item a failed condition returns (ReturnValuesOnConditionCheckFailure): the Document client unmarshals
 * responses only, so the exception still carries AttributeValues.
 */
const itemOfFailedCondition = (error: ConditionalCheckFailedException): Item | undefined =>
  error.Item === undefined ? undefined : unmarshall(error.Item);

function toClaim(item: Item): Claim {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!CLAIM_FIELDS.has(name) && typeof value === 'string') attributes[name] = value;
  }
  return {
    id: str(item.id) ?? '',
    state: item.claimState === 'COMPLETED' ? 'COMPLETED' : 'IN_PROGRESS',
    leaseOwner: str(item.leaseOwner),
    leasedAt: num(item.leasedAt),
    leaseExpiresAt: num(item.leaseExpiresAt),
    attributes,
  };
}

const expiresIn = (now: number, ttlSeconds: number): number => Math.floor(now / 1000) + ttlSeconds;

export class StateTable {
  constructor(
    readonly tableName: string,
    private readonly client: DynamoDBDocumentClient = documents,
  ) {}

  /**
   * Claims `key` with one conditional write: it succeeds when nobody holds the key or the holder's lease
   * has expired without completing. A failed condition returns the current item, so the caller learns in
   * the same round trip whether the work is done (skip it) or in progress (come back later).
   */
  async acquire(key: string, options: AcquireOptions): Promise<AcquireResult> {
    const extra = options.attributes ?? {};
    for (const name of Object.keys(extra)) {
      if (CLAIM_FIELDS.has(name)) throw new Error(`Attribute name ${name} is reserved by the state table`);
    }
    try {
      const out = await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...extra,
            id: key,
            claimState: 'IN_PROGRESS',
            leaseOwner: options.owner,
            leasedAt: options.now,
            leaseExpiresAt: options.leaseExpiresAt,
            expiration: expiresIn(options.now, options.ttlSeconds),
          },
          ConditionExpression: 'attribute_not_exists(id) OR (claimState = :inProgress AND leaseExpiresAt < :now)',
          ExpressionAttributeValues: { ':inProgress': 'IN_PROGRESS', ':now': options.now },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const lease: Lease = { key, owner: options.owner, leasedAt: options.now };
      if (out.Attributes !== undefined && Object.keys(out.Attributes).length > 0) {
        lease.takenOverFrom = toClaim(out.Attributes);
      }
      return { status: 'acquired', lease };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = itemOfFailedCondition(error) ?? (await this.get(key));
      if (item === undefined) {
        // Deleted (released) between our write and the read: nothing holds it, but the caller must try again.
        return { status: 'in-progress', claim: { id: key, state: 'IN_PROGRESS', attributes: {} } };
      }
      const claim = toClaim(item);
      return claim.state === 'COMPLETED' ? { status: 'completed', claim } : { status: 'in-progress', claim };
    }
  }

  /**
   * Marks the claim done and stores `attributes` beside it. Returns false when the lease was lost, which
   * can only happen if this invocation outlived its own deadline; the caller logs it.
   */
  async complete(lease: Lease, attributes: Record<string, string>, now: number): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Item = {
      ':completed': 'COMPLETED',
      ':inProgress': 'IN_PROGRESS',
      ':owner': lease.owner,
      ':now': now,
    };
    const sets = ['claimState = :completed', 'completedAt = :now'];
    Object.entries(attributes).forEach(([name, value], i) => {
      if (CLAIM_FIELDS.has(name)) throw new Error(`Attribute name ${name} is reserved by the state table`);
      names[`#a${i}`] = name;
      values[`:a${i}`] = value;
      sets.push(`#a${i} = :a${i}`);
    });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: lease.key },
          UpdateExpression: `SET ${sets.join(', ')} REMOVE leaseExpiresAt`,
          ConditionExpression: 'leaseOwner = :owner AND claimState = :inProgress',
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Gives the claim up after work that certainly did not happen, so a retry need not wait for the lease. */
  async release(lease: Lease): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { id: lease.key },
          ConditionExpression: 'leaseOwner = :owner AND claimState = :inProgress',
          ExpressionAttributeValues: { ':owner': lease.owner, ':inProgress': 'IN_PROGRESS' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** The claim under `key` as it stands (a consistent read), or undefined when there is none. */
  async read(key: string): Promise<Claim | undefined> {
    const item = await this.get(key);
    return item === undefined ? undefined : toClaim(item);
  }

  /** The attempt number recorded under `key` (0 if none) and which piece of work claimed it. */
  async readAttemptRecord(key: string): Promise<AttemptRecord> {
    const item = (await this.get(key)) ?? {};
    return { attempts: num(item.attempts) ?? 0, claimedBy: str(item.claimedBy), claimedAt: num(item.claimedAt) };
  }

  /**
   * Moves the attempt number under `key` from `from` to `to` with one conditional write, and says whether
   * this caller won it. Two invocations that read the same number cannot both advance it, so only the
   * winner acts on attempt `to`. `claimedBy` is stored beside the number so that a later try at the same
   * piece of work (a retry after an error, a takeover after a crash) can recognise the attempt as its own.
   */
  async advanceAttempts(
    key: string,
    options: { from: number; to: number; claimedBy: string; now: number; ttlSeconds: number },
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: key },
          UpdateExpression:
            'SET attempts = :to, claimedBy = :claimedBy, claimedAt = :now, updatedAt = :now, expiration = :expiration',
          ConditionExpression:
            options.from === 0 ? 'attribute_not_exists(attempts) OR attempts = :from' : 'attempts = :from',
          ExpressionAttributeValues: {
            ':from': options.from,
            ':to': options.to,
            ':claimedBy': options.claimedBy,
            ':now': options.now,
            ':expiration': expiresIn(options.now, options.ttlSeconds),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Adds one to the counter under `key` and returns the new value. The count starts again at 1 once the
   * window that began with the first count has passed, so a task that recovered and ran for a week does
   * not inherit last week's attempts.
   */
  async bumpWindowedCounter(key: string, options: { now: number; windowSeconds: number }): Promise<number> {
    const cutoff = options.now - options.windowSeconds * 1000;
    for (let round = 0; round < 2; round++) {
      try {
        const out = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { id: key },
            UpdateExpression:
              'SET attempts = if_not_exists(attempts, :zero) + :one, windowStart = if_not_exists(windowStart, :now), expiration = if_not_exists(expiration, :expiration)',
            ConditionExpression: 'attribute_not_exists(id) OR windowStart > :cutoff',
            ExpressionAttributeValues: {
              ':zero': 0,
              ':one': 1,
              ':now': options.now,
              ':cutoff': cutoff,
              ':expiration': expiresIn(options.now, options.windowSeconds),
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return num(out.Attributes?.attempts) ?? 1;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              id: key,
              attempts: 1,
              windowStart: options.now,
              expiration: expiresIn(options.now, options.windowSeconds),
            },
            ConditionExpression: 'attribute_not_exists(id) OR windowStart <= :cutoff',
            ExpressionAttributeValues: { ':cutoff': cutoff },
          }),
        );
        return 1;
      } catch (error) {
        // Another invocation restarted the window between our two writes; count within it instead.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new Error(`Could not count an attempt under ${key}: the state table item kept changing`);
  }

  private async get(key: string): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id: key }, ConsistentRead: true }),
    );
    return out.Item;
  }
}
