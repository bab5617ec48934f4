import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** Items as the Document client reads and writes them: plain values. */
type Item = Record<string, unknown>;

// The Document client leaves the item on a failed condition in AttributeValue form.
const conditionFailed = (item: Item | undefined) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: item === undefined ? undefined : marshall(item),
  });

const n = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN);
const keyOf = (input: { Key?: Record<string, unknown> }): string => input.Key!.id as string;

/**
 * An in-memory state table that honours the conditions lambda/shared/state-table.ts writes, so remediation
 * tests can follow state across events (alert once, attempt records, redeliveries) instead of scripting
 * every DynamoDB answer. It recognises the writes by their shape, not by parsing expressions.
 */
export class FakeStateTable {
  readonly items = new Map<string, Item>();
  /** Every attempt advance that won, in order. */
  readonly advances: Array<{ id: string; from: number; to: number }> = [];
  /** Runs before each UpdateItem is applied: lets a test change the table between a read and a write. */
  beforeUpdate: (input: UpdateCommandInput) => void = () => undefined;

  install(mock: AwsClientStub<DynamoDBDocumentClient>): void {
    mock.on(PutCommand).callsFake((input: PutCommandInput) => this.put(input));
    mock.on(UpdateCommand).callsFake((input: UpdateCommandInput) => this.update(input));
    mock.on(GetCommand).callsFake((input: GetCommandInput) => ({ Item: this.items.get(keyOf(input)) }));
    mock.on(DeleteCommand).callsFake((input: DeleteCommandInput) => this.delete(input));
  }

  private put(input: PutCommandInput) {
    const item = input.Item!;
    const id = item.id as string;
    const existing = this.items.get(id);
    const values = input.ExpressionAttributeValues ?? {};
    if (item.claimState !== undefined) {
      const now = n(values[':now']);
      const free =
        existing === undefined || (existing.claimState === 'IN_PROGRESS' && n(existing.leaseExpiresAt) < now);
      if (!free) throw conditionFailed(existing);
      this.items.set(id, { ...item });
      return { Attributes: existing };
    }
    // Restarting a windowed counter.
    const cutoff = n(values[':cutoff']);
    if (existing !== undefined && !(n(existing.windowStart) <= cutoff)) throw conditionFailed(existing);
    this.items.set(id, { ...item });
    return {};
  }

  private update(input: UpdateCommandInput) {
    this.beforeUpdate(input);
    const id = keyOf(input);
    const existing = this.items.get(id);
    const values = input.ExpressionAttributeValues ?? {};
    const expression = input.UpdateExpression ?? '';
    if (expression.startsWith('SET claimState = :completed')) {
      if (existing?.leaseOwner !== values[':owner'] || existing?.claimState !== 'IN_PROGRESS')
        throw conditionFailed(existing);
      const next: Item = { ...existing, claimState: 'COMPLETED', completedAt: values[':now'] };
      delete next.leaseExpiresAt;
      for (const [placeholder, name] of Object.entries(input.ExpressionAttributeNames ?? {})) {
        next[name] = values[`:${placeholder.slice(1)}`];
      }
      this.items.set(id, next);
      return {};
    }
    if (expression.startsWith('SET attempts = :to')) {
      const current = existing?.attempts === undefined ? 0 : n(existing.attempts);
      if (current !== n(values[':from'])) throw conditionFailed(existing);
      this.advances.push({ id, from: current, to: n(values[':to']) });
      this.items.set(id, {
        ...(existing ?? { id }),
        attempts: values[':to'],
        claimedBy: values[':claimedBy'],
        claimedAt: values[':now'],
        expiration: values[':expiration'],
      });
      return {};
    }
    if (expression.includes('if_not_exists(attempts')) {
      if (existing !== undefined && !(n(existing.windowStart) > n(values[':cutoff']))) throw conditionFailed(existing);
      const attempts = (existing === undefined ? 0 : n(existing.attempts)) + 1;
      this.items.set(id, {
        id,
        attempts,
        windowStart: existing?.windowStart ?? values[':now'],
        expiration: existing?.expiration ?? values[':expiration'],
      });
      return { Attributes: { attempts } };
    }
    throw new Error(`FakeStateTable does not know the update ${expression}`);
  }

  private delete(input: DeleteCommandInput) {
    const id = keyOf(input);
    const existing = this.items.get(id);
    if (existing?.leaseOwner !== input.ExpressionAttributeValues?.[':owner']) throw conditionFailed(existing);
    this.items.delete(id);
    return {};
  }

  /** Pretends an earlier invocation recorded `attempts` for a key (claimed by `claimedBy`, if given). */
  seedAttempts(id: string, attempts: number, windowStart = Date.now(), claimedBy?: string): void {
    this.items.set(id, {
      id,
      attempts,
      windowStart,
      ...(claimedBy === undefined ? {} : { claimedBy, claimedAt: windowStart }),
    });
  }
}
