import { CreateLocationNfsCommand, CreateTaskCommand, DataSyncClient } from '@aws-sdk/client-datasync';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/datasync-agent-setup';
import { AGENT_RESOURCE_TYPE } from '../../lambda/datasync-agent-setup/agent';
import { TRANSFER_RESOURCE_TYPE } from '../../lambda/datasync-agent-setup/transfer';
import createSample from '../fixtures/events/custom-resource/create.json';
import deleteSample from '../fixtures/events/custom-resource/delete.json';
import updateSample from '../fixtures/events/custom-resource/update.json';
import { parseIsCompleteRequest, parseOnEventRequest } from '../../lambda/shared/custom-resource';
import { createEvent, isCompleteEvent } from '../fixtures/events/custom-resource/events';

const datasync = mockClient(DataSyncClient);
const ENV = { ...process.env };

beforeEach(() => {
  datasync.reset();
  process.env = { ...ENV, AWS_REGION: 'us-west-2', CUSTOM_RESOURCE_PHASE: 'onEvent' };
});
afterAll(() => {
  process.env = ENV;
});

describe('custom resource envelope', () => {
  it.each([
    ['create', createSample],
    ['update', updateSample],
    ['delete', deleteSample],
  ])('accepts the documented %s request', (_name, sample) => {
    const request = parseOnEventRequest(sample);
    expect(request.RequestType).toBe(sample.RequestType);
    expect(request.ResourceProperties).toEqual(sample.ResourceProperties);
  });

  it.each([
    ['a non-object', 'Create', /event is not an object/],
    [
      'an unknown request type',
      { ...createSample, RequestType: 'Replace' },
      /RequestType is "Replace"; expected one of Create, Update, Delete/,
    ],
    [
      'missing properties',
      { ...createSample, ResourceProperties: undefined },
      /ResourceProperties is missing or not an object/,
    ],
    [
      'an update without old properties',
      { ...updateSample, OldResourceProperties: undefined },
      /Update event has no OldResourceProperties/,
    ],
    [
      'a delete without physical id',
      { ...deleteSample, PhysicalResourceId: '' },
      /Delete event has no PhysicalResourceId/,
    ],
    ['a missing logical id', { ...createSample, LogicalResourceId: undefined }, /LogicalResourceId is missing/],
  ])('rejects %s with a message naming the field', (_name, event, message) => {
    expect(() => parseOnEventRequest(event)).toThrow(message);
  });

  it('keeps only string Data for isComplete', () => {
    const request = parseIsCompleteRequest(isCompleteEvent(createSample, { Data: { A: 'x', B: 3 } }));
    expect(request.Data).toEqual({ A: 'x' });
    expect(request.PhysicalResourceId).toBe(createSample.RequestId);
  });
});

describe('handler', () => {
  const transferProps = {
    AgentArn: 'arn:aws:datasync:us-west-2:123456789012:agent/agent-0b0addbeef44baca3',
    Source: { Protocol: 'NFS', ServerHostname: 'nfs.example.internal', Subdirectory: '/exports' },
    DestinationLocationArn: 'arn:aws:datasync:us-west-2:123456789012:location/loc-s3',
    CloudWatchLogGroupArn: 'arn:aws:logs:us-west-2:123456789012:log-group:task:*',
    TaskName: 'task',
  };

  it('routes a transfer event to the location and task logic', async () => {
    datasync
      .on(CreateLocationNfsCommand)
      .resolves({ LocationArn: 'arn:aws:datasync:us-west-2:123456789012:location/loc-1' });
    datasync.on(CreateTaskCommand).resolves({ TaskArn: 'arn:aws:datasync:us-west-2:123456789012:task/task-1' });
    const result = await handler(createEvent(TRANSFER_RESOURCE_TYPE, transferProps));
    expect(result).toMatchObject({ Data: { TransferStatus: 'READY' } });
  });

  it('routes an agent event to activation planning', async () => {
    const result = await handler(
      createEvent(AGENT_RESOURCE_TYPE, {
        InstanceId: 'i-1',
        AgentIp: '10.0.1.20',
        AgentName: 'agent',
        ActivationBudgetSeconds: '600',
      }),
    );
    expect(result).toMatchObject({ PhysicalResourceId: 'pending:i-1', Data: { SetupPlan: 'activate' } });
  });

  it('answers isComplete of a transfer at once', async () => {
    process.env['CUSTOM_RESOURCE_PHASE'] = 'isComplete';
    await expect(handler(isCompleteEvent(createEvent(TRANSFER_RESOURCE_TYPE, transferProps)))).resolves.toEqual({
      IsComplete: true,
    });
  });

  it('rejects a resource type it does not serve', async () => {
    await expect(handler(createEvent('Custom::Other', {}))).rejects.toThrow('Unsupported ResourceType Custom::Other');
  });

  it('names a missing or wrong phase', async () => {
    delete process.env['CUSTOM_RESOURCE_PHASE'];
    await expect(handler(createSample)).rejects.toThrow('Environment variable CUSTOM_RESOURCE_PHASE is not set');
    process.env['CUSTOM_RESOURCE_PHASE'] = 'later';
    await expect(handler(createSample)).rejects.toThrow(
      'CUSTOM_RESOURCE_PHASE is "later"; expected onEvent or isComplete',
    );
  });
});
