import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { documentClient, StateTable } from '../../lambda/shared/state-table';

// The other state-table tests replace the Document client, so they see plain values only. These send through a
// real DynamoDB client (with an HTTP handler in place of the service) to check what the Document client does
// with them: AttributeValues on the wire, plain values back, and the item a failed condition returns.

type Answer = { status: number; body: object };

function fakeDynamoDb(answer: (operation: string, body: Record<string, unknown>) => Answer) {
  const requests: { operation: string; body: Record<string, unknown> }[] = [];
  const client = new DynamoDBClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: HttpRequest) => {
        const operation = String(request.headers['x-amz-target']).split('.').pop()!;
        const raw = request.body as string | Uint8Array;
        const body = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw)) as Record<
          string,
          unknown
        >;
        requests.push({ operation, body });
        const out = answer(operation, body);
        return {
          response: new HttpResponse({
            statusCode: out.status,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([Buffer.from(JSON.stringify(out.body))]),
          }),
        };
      },
    },
  });
  return { table: new StateTable('pipeline-state', documentClient(client)), requests };
}

const conditionFailed = (item: object): Answer => ({
  status: 400,
  body: {
    __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
    message: 'The conditional request failed',
    Item: item,
  },
});

const options = { owner: 'request-1', now: 1_000_000, leaseExpiresAt: 1_040_000, ttlSeconds: 3600 };

describe('state table through the Document client', () => {
  test('a claim goes out as AttributeValues, with its condition values', async () => {
    const { table, requests } = fakeDynamoDb(() => ({ status: 200, body: {} }));
    await table.acquire('glue-run#abc', { ...options, attributes: { batchId: 'b-1' } });

    expect(requests).toHaveLength(1);
    expect(requests[0]!.operation).toBe('PutItem');
    expect(requests[0]!.body).toMatchObject({
      TableName: 'pipeline-state',
      Item: {
        id: { S: 'glue-run#abc' },
        batchId: { S: 'b-1' },
        claimState: { S: 'IN_PROGRESS' },
        leaseOwner: { S: 'request-1' },
        leasedAt: { N: '1000000' },
        leaseExpiresAt: { N: '1040000' },
        expiration: { N: '4600' },
      },
      ExpressionAttributeValues: { ':inProgress': { S: 'IN_PROGRESS' }, ':now': { N: '1000000' } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  test('the holder returned with a failed condition is read without another request', async () => {
    const { table, requests } = fakeDynamoDb(() =>
      conditionFailed({ id: { S: 'k' }, claimState: { S: 'COMPLETED' }, jobRunId: { S: 'jr_1' } }),
    );
    expect(await table.acquire('k', options)).toEqual({
      status: 'completed',
      claim: { id: 'k', state: 'COMPLETED', attributes: { jobRunId: 'jr_1' } },
    });
    expect(requests.map((r) => r.operation)).toEqual(['PutItem']);
  });

  test('a takeover returns the dead holder in plain values', async () => {
    const { table } = fakeDynamoDb(() => ({
      status: 200,
      body: { Attributes: { id: { S: 'k' }, claimState: { S: 'IN_PROGRESS' }, leasedAt: { N: '5' } } },
    }));
    const result = await table.acquire('k', options);
    expect(result.status === 'acquired' && result.lease.takenOverFrom).toMatchObject({ leasedAt: 5 });
  });

  test('a counter reads its new value back as a number, and a lost lease is a false, not an error', async () => {
    const { table, requests } = fakeDynamoDb((operation) =>
      operation === 'UpdateItem' && requests.length === 1
        ? { status: 200, body: { Attributes: { attempts: { N: '3' } } } }
        : conditionFailed({}),
    );
    expect(await table.bumpWindowedCounter('dms-attempts#t', { now: 1, windowSeconds: 60 })).toBe(3);
    expect(requests[0]!.body).toMatchObject({ Key: { id: { S: 'dms-attempts#t' } } });
    expect(await table.complete({ key: 'k', owner: 'request-1', leasedAt: 1 }, {}, 2)).toBe(false);
  });
});
