import 'aws-sdk-client-mock-jest';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { StateTable } from '../../lambda/shared/state-table';

// The state table is shared by the Glue trigger and remediation; these pin the DynamoDB requests it makes.
// Requests and results are plain values (the Document client marshals them); the item a failed condition
// returns stays in AttributeValue form, as the Document client leaves it on the exception.
const dynamodb = mockClient(DynamoDBDocumentClient);
const table = () => new StateTable('pipeline-state');
const failed = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: item as never,
  });

beforeEach(() => dynamodb.reset());

describe('state table claims', () => {
  const options = { owner: 'request-1', now: 1_000_000, leaseExpiresAt: 1_040_000, ttlSeconds: 3600 };

  test('acquire is one conditional put: free, or held by an expired, uncompleted lease', async () => {
    dynamodb.on(PutCommand).resolves({});
    const result = await table().acquire('glue-run#abc', options);

    expect(result).toEqual({
      status: 'acquired',
      lease: { key: 'glue-run#abc', owner: 'request-1', leasedAt: 1_000_000 },
    });
    const input = dynamodb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TableName: 'pipeline-state',
      ConditionExpression: 'attribute_not_exists(id) OR (claimState = :inProgress AND leaseExpiresAt < :now)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      Item: {
        id: 'glue-run#abc',
        claimState: 'IN_PROGRESS',
        leaseOwner: 'request-1',
        leaseExpiresAt: 1_040_000,
        expiration: 1000 + 3600,
      },
    });
  });

  test('acquire reports a takeover with the dead holder, and the holder of a live or finished claim', async () => {
    dynamodb
      .on(PutCommand)
      .resolvesOnce({
        Attributes: { id: 'k', claimState: 'IN_PROGRESS', leaseOwner: 'dead', leasedAt: 5 },
      })
      .rejectsOnce(failed({ id: { S: 'k' }, claimState: { S: 'COMPLETED' }, jobRunId: { S: 'jr_1' } }))
      .rejectsOnce(failed({ id: { S: 'k' }, claimState: { S: 'IN_PROGRESS' }, leaseOwner: { S: 'live' } }));

    const takeover = await table().acquire('k', options);
    expect(takeover.status === 'acquired' && takeover.lease.takenOverFrom).toMatchObject({
      leaseOwner: 'dead',
      leasedAt: 5,
    });
    expect(await table().acquire('k', options)).toMatchObject({
      status: 'completed',
      claim: { attributes: { jobRunId: 'jr_1' } },
    });
    expect(await table().acquire('k', options)).toMatchObject({ status: 'in-progress', claim: { leaseOwner: 'live' } });
  });

  test('complete writes only if this invocation still holds the lease, and reports when it does not', async () => {
    dynamodb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(failed());
    const lease = { key: 'k', owner: 'request-1', leasedAt: 1 };
    expect(await table().complete(lease, { jobRunId: 'jr_1' }, 2)).toBe(true);
    expect(await table().complete(lease, { jobRunId: 'jr_1' }, 2)).toBe(false);
    const input = dynamodb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('leaseOwner = :owner AND claimState = :inProgress');
    expect(input.ExpressionAttributeNames).toEqual({ '#a0': 'jobRunId' });
    await expect(table().complete(lease, { claimState: 'x' }, 2)).rejects.toThrow('reserved');
  });
});

describe('state table counters', () => {
  test('a windowed counter restarts at 1 when its window has passed', async () => {
    dynamodb.on(UpdateCommand).rejects(failed());
    dynamodb.on(PutCommand).resolves({});
    const count = await table().bumpWindowedCounter('dms-attempts#task', { now: 100_000_000, windowSeconds: 86_400 });

    expect(count).toBe(1);
    const put = dynamodb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe('attribute_not_exists(id) OR windowStart <= :cutoff');
    expect(put.ExpressionAttributeValues).toEqual({ ':cutoff': 100_000_000 - 86_400_000 });
  });

  test('a windowed counter inside its window returns the incremented count', async () => {
    dynamodb.on(UpdateCommand).resolves({ Attributes: { attempts: 3 } });
    expect(await table().bumpWindowedCounter('k', { now: 1, windowSeconds: 60 })).toBe(3);
  });

  test('an attempt is advanced only from the number that was read, so of two racers one wins', async () => {
    dynamodb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(failed());
    const options = { claimedBy: 'remediation#event#e1', now: 5_000, ttlSeconds: 60 };
    expect(await table().advanceAttempts('glue-attempts#c', { ...options, from: 0, to: 1 })).toBe(true);
    expect(await table().advanceAttempts('glue-attempts#c', { ...options, from: 1, to: 2 })).toBe(false);

    const [first, second] = dynamodb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(first!.ConditionExpression).toBe('attribute_not_exists(attempts) OR attempts = :from');
    expect(second!.ConditionExpression).toBe('attempts = :from');
    expect(second!.ExpressionAttributeValues).toMatchObject({
      ':from': 1,
      ':to': 2,
      ':claimedBy': 'remediation#event#e1',
    });
    expect(second!.UpdateExpression).toContain('attempts = :to');
  });

  test('an attempt record is read with who claimed it', async () => {
    dynamodb.on(GetCommand).resolves({
      Item: { id: 'glue-attempts#c', attempts: 2, claimedBy: 'remediation#event#e1', claimedAt: 5000 },
    });
    expect(await table().readAttemptRecord('glue-attempts#c')).toEqual({
      attempts: 2,
      claimedBy: 'remediation#event#e1',
      claimedAt: 5000,
    });
    expect(dynamodb.commandCalls(GetCommand)[0]!.args[0].input.ConsistentRead).toBe(true);
    dynamodb.on(GetCommand).resolves({});
    expect(await table().readAttemptRecord('glue-attempts#none')).toEqual({ attempts: 0 });
  });
});
