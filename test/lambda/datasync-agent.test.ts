import {
  CreateAgentCommand,
  DataSyncClient,
  DeleteAgentCommand,
  InvalidRequestException,
} from '@aws-sdk/client-datasync';
import { mockClient } from 'aws-sdk-client-mock';
import type { HttpGet } from '../../lambda/datasync-agent-setup/activation-key';
import { AGENT_RESOURCE_TYPE, AgentDeps, isAgentComplete, onAgentEvent } from '../../lambda/datasync-agent-setup/agent';
import { parseIsCompleteRequest, parseOnEventRequest } from '../../lambda/shared/custom-resource';
import { createEvent, deleteEvent, isCompleteEvent, updateEvent } from '../fixtures/events/custom-resource/events';

const datasync = mockClient(DataSyncClient);
const KEY = 'ABCDE-12345-FGHIJ-67890-KLMNO';
const AGENT_ARN = 'arn:aws:datasync:us-west-2:123456789012:agent/agent-0b0addbeef44baca3';
const OTHER_AGENT_ARN = 'arn:aws:datasync:us-west-2:123456789012:agent/agent-0123456789abcdef0';
const T0 = Date.parse('2026-11-22T10:00:00Z');

const props = (overrides: Record<string, string> = {}): Record<string, string> => ({
  InstanceId: 'i-0123456789abcdef0',
  AgentIp: '10.0.1.20',
  AgentName: 'dev-migration-agent',
  ExistingAgentArn: '',
  ActivationAttempt: '0',
  ActivationBudgetSeconds: '1200',
  ...overrides,
});

const agentAnswers: HttpGet = async () => ({ statusCode: 200, body: KEY });
const agentSilent: HttpGet = async () => {
  throw new Error('connect ECONNREFUSED 10.0.1.20:80');
};

function deps(httpGet: HttpGet, now = T0): AgentDeps {
  return { region: 'us-west-2', httpGet, now: () => now };
}

/** onEvent, then one isComplete poll at `pollAt`, as the Provider framework chains them. */
async function runOnce(event: Record<string, unknown>, httpGet: HttpGet, pollAt = T0) {
  const onEventResult = await onAgentEvent(parseOnEventRequest(event), deps(httpGet));
  const poll = await isAgentComplete(
    parseIsCompleteRequest(isCompleteEvent(event, { ...onEventResult })),
    deps(httpGet, pollAt),
  );
  return { onEventResult, poll };
}

beforeEach(() => {
  datasync.reset();
  datasync.on(CreateAgentCommand).resolves({ AgentArn: AGENT_ARN });
});

describe('Create', () => {
  it('activates the agent with the key the instance hands out', async () => {
    const { onEventResult, poll } = await runOnce(createEvent(AGENT_RESOURCE_TYPE, props()), agentAnswers);

    expect(onEventResult.Data).toEqual({ SetupPlan: 'activate', ActivationDeadline: '2026-11-22T10:20:00.000Z' });
    expect(datasync).toHaveReceivedCommandWith(CreateAgentCommand, {
      ActivationKey: KEY,
      AgentName: 'dev-migration-agent',
    });
    expect(poll).toEqual({
      IsComplete: true,
      PhysicalResourceId: AGENT_ARN,
      Data: expect.objectContaining({ ActivationSuccess: 'true', AgentArn: AGENT_ARN }),
    });
  });

  it('keeps polling, without Data, while the agent does not answer and budget is left', async () => {
    const { poll } = await runOnce(createEvent(AGENT_RESOURCE_TYPE, props()), agentSilent, T0 + 19 * 60_000);
    expect(poll).toEqual({ IsComplete: false });
    expect(datasync).not.toHaveReceivedCommand(CreateAgentCommand);
  });

  it('retries when CreateAgent rejects the key while budget is left', async () => {
    datasync
      .on(CreateAgentCommand)
      .rejects(new InvalidRequestException({ message: 'Activation key expired', $metadata: {} }));
    const { poll } = await runOnce(createEvent(AGENT_RESOURCE_TYPE, props()), agentAnswers, T0 + 60_000);
    expect(poll).toEqual({ IsComplete: false });
  });

  it('completes without an agent, and says how to finish, once the budget is spent', async () => {
    const { poll } = await runOnce(createEvent(AGENT_RESOURCE_TYPE, props()), agentSilent, T0 + 20 * 60_000);

    expect(poll.IsComplete).toBe(true);
    if (!poll.IsComplete) return;
    expect(poll.PhysicalResourceId).toBe('pending:i-0123456789abcdef0');
    expect(poll.Data).toMatchObject({ ActivationSuccess: 'false', AgentArn: '' });
    const text = poll.Data?.['SetupInstructions'] ?? '';
    expect(text).toContain(
      'not activated within 20 minutes: agent 10.0.1.20 did not answer on port 80: connect ECONNREFUSED',
    );
    expect(text).toContain('curl "http://10.0.1.20/?gatewayType=SYNC&activationRegion=us-west-2&no_redirect"');
    expect(text).toContain(
      'aws datasync create-agent --region us-west-2 --agent-name dev-migration-agent --activation-key <KEY FROM STEP 1>',
    );
    expect(text).toContain('dataSync.existingAgentArn');
    expect(text).toContain('lib/config/environments.ts');
    expect(text).toContain('set dataSync.activationAttempt to 1 for this environment in lib/config/environments.ts');
    expect(text).toContain('`npx cdk deploy mystack`');
  });

  it('names the stack the way cdk deploy selects it inside a Stage', async () => {
    const { poll } = await runOnce(
      createEvent(AGENT_RESOURCE_TYPE, props({ StackPath: 'Dev/DataSync' })),
      agentSilent,
      T0 + 20 * 60_000,
    );
    const text = (poll.IsComplete && poll.Data?.['SetupInstructions']) || '';
    expect(text).toContain('`npx cdk deploy Dev/DataSync`');
    expect(text).toContain('redeploy Dev/DataSync.');
  });

  it('keeps the whole response within the 4,096 bytes CloudFormation accepts, however long the error', async () => {
    const longError: HttpGet = async () => {
      throw new Error(`socket hang up ${'x'.repeat(5000)}`);
    };
    const event = createEvent(
      AGENT_RESOURCE_TYPE,
      props({ AgentName: `dev-migration-datasync-stack-with-a-long-name-${'a'.repeat(60)}-agent` }),
    );
    const { onEventResult, poll } = await runOnce(event, longError, T0 + 20 * 60_000);
    if (!poll.IsComplete) throw new Error('expected completion');
    // What the Provider framework PUTs to the response URL.
    const body = JSON.stringify({
      Status: 'SUCCESS',
      Reason: 'SUCCESS',
      StackId: event['StackId'],
      RequestId: event['RequestId'],
      PhysicalResourceId: poll.PhysicalResourceId,
      LogicalResourceId: event['LogicalResourceId'],
      Data: { ...onEventResult.Data, ...poll.Data },
    });
    expect(Buffer.byteLength(body)).toBeLessThan(4096);
    expect(poll.Data?.['SetupInstructions']).toContain('socket hang up xxx');
  });

  it('reports the CreateAgent error when that is what used up the budget', async () => {
    datasync
      .on(CreateAgentCommand)
      .rejects(new InvalidRequestException({ message: 'Activation key expired', $metadata: {} }));
    const { poll } = await runOnce(createEvent(AGENT_RESOURCE_TYPE, props()), agentAnswers, T0 + 21 * 60_000);
    expect(poll.IsComplete && poll.Data?.['SetupInstructions']).toContain(
      'InvalidRequestException: Activation key expired',
    );
  });

  it('uses an agent from the config without touching the instance', async () => {
    const httpGet = jest.fn(agentAnswers);
    const { poll } = await runOnce(
      createEvent(AGENT_RESOURCE_TYPE, props({ ExistingAgentArn: OTHER_AGENT_ARN })),
      httpGet,
    );

    expect(httpGet).not.toHaveBeenCalled();
    expect(datasync).not.toHaveReceivedCommand(CreateAgentCommand);
    expect(poll).toMatchObject({
      IsComplete: true,
      PhysicalResourceId: `external:${OTHER_AGENT_ARN}`,
      Data: { ActivationSuccess: 'true', AgentArn: OTHER_AGENT_ARN },
    });
  });

  it('rejects an existing agent ARN that is not one, naming the property', async () => {
    const event = createEvent(AGENT_RESOURCE_TYPE, props({ ExistingAgentArn: 'agent-123' }));
    await expect(onAgentEvent(parseOnEventRequest(event), deps(agentAnswers))).rejects.toThrow(
      /ExistingAgentArn "agent-123" is not a DataSync agent ARN/,
    );
  });
});

describe('Update', () => {
  it('activates again after a pending activation when the attempt number changes', async () => {
    const event = updateEvent(
      AGENT_RESOURCE_TYPE,
      'pending:i-0123456789abcdef0',
      props({ ActivationAttempt: '1' }),
      props(),
    );
    const { onEventResult, poll } = await runOnce(event, agentAnswers);
    expect(onEventResult.Data?.['SetupPlan']).toBe('activate');
    expect(poll).toMatchObject({ IsComplete: true, PhysicalResourceId: AGENT_ARN });
  });

  it('keeps an active agent when the instance is the same', async () => {
    const httpGet = jest.fn(agentAnswers);
    const event = updateEvent(AGENT_RESOURCE_TYPE, AGENT_ARN, props({ ActivationAttempt: '5' }), props());
    const { poll } = await runOnce(event, httpGet);
    expect(httpGet).not.toHaveBeenCalled();
    expect(poll).toMatchObject({
      IsComplete: true,
      PhysicalResourceId: AGENT_ARN,
      Data: { ActivationSuccess: 'true' },
    });
  });

  it('activates the new instance when it was replaced; the new id lets CloudFormation delete the old agent', async () => {
    datasync.on(CreateAgentCommand).resolves({ AgentArn: OTHER_AGENT_ARN });
    const event = updateEvent(
      AGENT_RESOURCE_TYPE,
      AGENT_ARN,
      props({ InstanceId: 'i-0fedcba9876543210', AgentIp: '10.0.2.30' }),
      props(),
    );
    const { poll } = await runOnce(event, agentAnswers);
    expect(poll).toMatchObject({ IsComplete: true, PhysicalResourceId: OTHER_AGENT_ARN });

    // The cleanup delete CloudFormation sends for the old id.
    await onAgentEvent(parseOnEventRequest(deleteEvent(AGENT_RESOURCE_TYPE, AGENT_ARN, props())), deps(agentAnswers));
    expect(datasync).toHaveReceivedCommandWith(DeleteAgentCommand, { AgentArn: AGENT_ARN });
  });

  it('keeps owning the agent when its own ARN is copied into the config', async () => {
    const event = updateEvent(AGENT_RESOURCE_TYPE, AGENT_ARN, props({ ExistingAgentArn: AGENT_ARN }), props());
    const { poll } = await runOnce(event, agentAnswers);
    expect(poll).toMatchObject({ IsComplete: true, PhysicalResourceId: AGENT_ARN });
  });
});

describe('Delete', () => {
  const onDelete = (physicalId: string) =>
    onAgentEvent(parseOnEventRequest(deleteEvent(AGENT_RESOURCE_TYPE, physicalId, props())), deps(agentSilent));

  it('deletes an agent it activated', async () => {
    datasync.on(DeleteAgentCommand).resolves({});
    await expect(onDelete(AGENT_ARN)).resolves.toEqual({});
    expect(datasync).toHaveReceivedCommandWith(DeleteAgentCommand, { AgentArn: AGENT_ARN });
  });

  it.each([
    ['the agent is already gone', new InvalidRequestException({ message: 'Agent does not exist', $metadata: {} })],
    [
      'DataSync refuses',
      Object.assign(new Error('not authorized to perform datasync:DeleteAgent'), { name: 'AccessDeniedException' }),
    ],
  ])('succeeds when %s (a stuck delete blocks stack deletion)', async (_case, error) => {
    datasync.on(DeleteAgentCommand).rejects(error);
    await expect(onDelete(AGENT_ARN)).resolves.toEqual({});
  });

  it.each([`external:${OTHER_AGENT_ARN}`, 'pending:i-0123456789abcdef0', 'unique id for this create request'])(
    'leaves alone what it does not own (%s)',
    async (physicalId) => {
      await onDelete(physicalId);
      expect(datasync).not.toHaveReceivedCommand(DeleteAgentCommand);
    },
  );

  it('completes the delete on the first poll', async () => {
    const event = deleteEvent(AGENT_RESOURCE_TYPE, AGENT_ARN, props());
    await expect(isAgentComplete(parseIsCompleteRequest(isCompleteEvent(event)), deps(agentSilent))).resolves.toEqual({
      IsComplete: true,
    });
  });
});
