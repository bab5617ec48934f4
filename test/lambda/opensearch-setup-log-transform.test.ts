import { gzipSync } from 'node:zlib';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { handler } from '../../lambda/opensearch-setup/log-transform';
import {
  MAX_RESPONSE_BYTES,
  transformEvent,
  transformRecord,
} from '../../lambda/opensearch-setup/log-transform/cloudwatch-logs-documents';
import controlMessage from './opensearch-setup-fixtures/cloudwatch-logs-control-message.json';
import dataMessage from './opensearch-setup-fixtures/cloudwatch-logs-data-message.json';
import firehoseEvent from './opensearch-setup-fixtures/firehose-transformation-event.json';

const gz = (payload: unknown): string =>
  gzipSync(Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))).toString('base64');

/** The documented Firehose envelope with its records' data replaced. */
function eventWith(...data: string[]): FirehoseTransformationEvent {
  const template = firehoseEvent.records[0]!;
  return {
    ...firehoseEvent,
    records: data.map((d, i) => ({ ...template, recordId: `record${i + 1}`, data: d })),
  } as unknown as FirehoseTransformationEvent;
}

const decode = (b64: string | undefined): unknown => JSON.parse(Buffer.from(b64 ?? '', 'base64').toString('utf8'));

describe('transformRecord', () => {
  it('turns a subscription record into one document holding its batch of events', () => {
    const outcome = transformRecord(gz(dataMessage));
    expect(outcome).toEqual({
      result: 'Ok',
      document: {
        '@timestamp': '2015-05-28T15:27:35.000Z',
        owner: '111111111111',
        logGroup: 'CloudTrail/logs',
        logStream: '111111111111_CloudTrail/logs_us-east-1',
        subscriptionFilters: ['Destination'],
        eventCount: 3,
        events: dataMessage.logEvents.map((e) => ({
          id: e.id,
          '@timestamp': '2015-05-28T15:27:35.000Z',
          message: e.message,
        })),
      },
    });
  });

  it('drops the control message CloudWatch Logs sends to test the destination', () => {
    expect(transformRecord(gz(controlMessage))).toEqual({ result: 'Dropped', reason: 'control message' });
  });

  it('fails a record that is not gzip, such as the plain text of the documented sample', () => {
    expect(transformRecord(firehoseEvent.records[0]!.data)).toMatchObject({
      result: 'ProcessingFailed',
      reason: expect.stringMatching(/not gzip/),
    });
  });

  it('fails gzip that is not JSON, and JSON that is not a subscription payload, saying why', () => {
    expect(transformRecord(gz('not json'))).toMatchObject({
      result: 'ProcessingFailed',
      reason: expect.stringMatching(/does not decompress to JSON/),
    });
    const noEvents = { ...dataMessage, logEvents: [{ id: 'x', timestamp: 'yesterday', message: 'm' }] };
    expect(transformRecord(gz(noEvents))).toMatchObject({
      result: 'ProcessingFailed',
      reason: 'logEvents[0] lacks a string id, numeric timestamp and string message',
    });
    expect(transformRecord(gz({ ...dataMessage, logGroup: 7 }))).toMatchObject({
      reason: 'logGroup is missing or not a string',
    });
  });
});

describe('transformEvent', () => {
  it('answers every record id exactly once, keeping failed records byte for byte for the S3 backup', () => {
    const ev = eventWith(gz(dataMessage), gz(controlMessage), firehoseEvent.records[0]!.data);
    const { response, summary } = transformEvent(ev);

    expect(response.records.map((r) => [r.recordId, r.result])).toEqual([
      ['record1', 'Ok'],
      ['record2', 'Dropped'],
      ['record3', 'ProcessingFailed'],
    ]);
    expect(decode(response.records[0]!.data)).toMatchObject({ logGroup: 'CloudTrail/logs', eventCount: 3 });
    expect(response.records[2]!.data).toBe(firehoseEvent.records[0]!.data);
    expect(summary).toMatchObject({ ok: 1, dropped: 1, failed: 1 });
    // Firehose rejects a response record without data, whatever its result.
    for (const record of response.records) expect(typeof record.data).toBe('string');
    expect(response.records[1]!.data).toBe(ev.records[1]!.data);
  });

  it('sends batches beyond the Lambda response limit to the backup instead of failing the invocation', () => {
    // Highly compressible: ~3 MB of log text per record in a few KB of gzip.
    const big = { ...dataMessage, logEvents: [{ id: '1', timestamp: 1432826855000, message: 'x'.repeat(3_000_000) }] };
    const { response, summary } = transformEvent(eventWith(gz(big), gz(big)));
    expect(response.records.map((r) => r.result)).toEqual(['Ok', 'ProcessingFailed']);
    expect(summary.failureReasons).toEqual(['transformed batch would exceed the Lambda response limit']);
    const total = response.records.reduce((n, r) => n + (r.data?.length ?? 0), 0);
    expect(total).toBeLessThan(MAX_RESPONSE_BYTES);
  });

  it('rejects an event that is not a Firehose transformation event', () => {
    expect(() => transformEvent({ invocationId: 'x' } as unknown as FirehoseTransformationEvent)).toThrow(
      /records list/,
    );
    expect(() => transformEvent(eventWith(undefined as unknown as string))).toThrow(/recordId and base64 data/);
  });
});

describe('handler', () => {
  it('returns the records Firehose expects', async () => {
    const res = await handler(eventWith(gz(dataMessage)));
    expect(res.records).toHaveLength(1);
    expect(res.records[0]).toMatchObject({ recordId: 'record1', result: 'Ok' });
  });
});
