import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

const conditionFailed = (item: Item | undefined) =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: item });

const n = (value: AttributeValue | undefined): number => Number(value?.N ?? Number.NaN);

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
  beforeUpdate: (input: UpdateItemCommandInput) => void = () => undefined;

  install(mock: AwsClientStub<DynamoDBClient>): void {
    mock.on(PutItemCommand).callsFake((input: PutItemCommandInput) => this.put(input));
    mock.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => this.update(input));
    mock.on(GetItemCommand).callsFake((input: GetItemCommandInput) => ({ Item: this.items.get(input.Key!.id!.S!) }));
    mock.on(DeleteItemCommand).callsFake((input: DeleteItemCommandInput) => this.delete(input));
  }

  private put(input: PutItemCommandInput) {
    const item = input.Item!;
    const id = item.id!.S!;
    const existing = this.items.get(id);
    const values = input.ExpressionAttributeValues ?? {};
    if (item.claimState !== undefined) {
      const now = n(values[':now']);
      const free =
        existing === undefined || (existing.claimState?.S === 'IN_PROGRESS' && n(existing.leaseExpiresAt) < now);
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

  private update(input: UpdateItemCommandInput) {
    this.beforeUpdate(input);
    const id = input.Key!.id!.S!;
    const existing = this.items.get(id);
    const values = input.ExpressionAttributeValues ?? {};
    const expression = input.UpdateExpression ?? '';
    if (expression.startsWith('SET claimState = :completed')) {
      if (existing?.leaseOwner?.S !== values[':owner']?.S || existing?.claimState?.S !== 'IN_PROGRESS')
        throw conditionFailed(existing);
      const next: Item = { ...existing, claimState: { S: 'COMPLETED' }, completedAt: values[':now']! };
      delete next.leaseExpiresAt;
      for (const [placeholder, name] of Object.entries(input.ExpressionAttributeNames ?? {})) {
        next[name] = values[`:${placeholder.slice(1)}`]!;
      }
      this.items.set(id, next);
      return {};
    }
    if (expression.startsWith('SET attempts = :to')) {
      const current = existing?.attempts === undefined ? 0 : n(existing.attempts);
      if (current !== n(values[':from'])) throw conditionFailed(existing);
      this.advances.push({ id, from: current, to: n(values[':to']) });
      this.items.set(id, {
        ...(existing ?? { id: { S: id } }),
        attempts: values[':to']!,
        claimedBy: values[':claimedBy']!,
        claimedAt: values[':now']!,
        expiration: values[':expiration']!,
      });
      return {};
    }
    if (expression.includes('if_not_exists(attempts')) {
      if (existing !== undefined && !(n(existing.windowStart) > n(values[':cutoff']))) throw conditionFailed(existing);
      const attempts = (existing === undefined ? 0 : n(existing.attempts)) + 1;
      this.items.set(id, {
        id: { S: id },
        attempts: { N: String(attempts) },
        windowStart: existing?.windowStart ?? values[':now']!,
        expiration: existing?.expiration ?? values[':expiration']!,
      });
      return { Attributes: { attempts: { N: String(attempts) } } };
    }
    throw new Error(`FakeStateTable does not know the update ${expression}`);
  }

  private delete(input: DeleteItemCommandInput) {
    const id = input.Key!.id!.S!;
    const existing = this.items.get(id);
    if (existing?.leaseOwner?.S !== input.ExpressionAttributeValues?.[':owner']?.S) throw conditionFailed(existing);
    this.items.delete(id);
    return {};
  }

  /** Pretends an earlier invocation recorded `attempts` for a key (claimed by `claimedBy`, if given). */
  seedAttempts(id: string, attempts: number, windowStart = Date.now(), claimedBy?: string): void {
    this.items.set(id, {
      id: { S: id },
      attempts: { N: String(attempts) },
      windowStart: { N: String(windowStart) },
      ...(claimedBy === undefined ? {} : { claimedBy: { S: claimedBy }, claimedAt: { N: String(windowStart) } }),
    });
  }
}
