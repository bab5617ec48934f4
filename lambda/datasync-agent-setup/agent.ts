import { CreateAgentCommand, DeleteAgentCommand } from '@aws-sdk/client-datasync';
import {
  currentPhysicalId,
  oldPropertiesOf,
  describeError,
  InvalidRequestError,
  IsCompleteRequest,
  IsCompleteResponse,
  NOT_COMPLETE,
  OnEventRequest,
  OnEventResponse,
  optionalString,
  requirePositiveInteger,
  requireString,
  ResourceProperties,
} from '../shared/custom-resource';
import { logger } from '../shared/powertools';
import { AgentNotReadyError, fetchActivationKey, HttpGet } from './activation-key';
import { datasync, isNotFound } from './datasync';
import {
  activatedInstructions,
  activationFailedInstructions,
  AgentContext,
  existingAgentInstructions,
  stackSelector,
} from './instructions';

/**
 * `Custom::DataSyncAgent`: activates the agent running on the stack's EC2 instance, or adopts an
 * agent activated by hand. It never fails the stack for activation reasons: when the agent does not
 * answer within the budget it completes with ActivationSuccess=false and instructions.
 *
 * The physical id says what exists, so that CloudFormation's replace-then-delete cleans up:
 * - the agent ARN: an agent this resource activated (deleted with the resource);
 * - `external:<agent ARN>`: an agent from `dataSync.existingAgentArn` (never deleted here);
 * - `pending:<instance id>`: no agent. It stays the same across failed retries, so a failed retry
 *   triggers no cleanup, and it differs from any agent ARN, so activating replaces it cleanly.
 */
export const AGENT_RESOURCE_TYPE = 'Custom::DataSyncAgent';

export interface AgentProperties {
  readonly instanceId: string;
  readonly agentIp: string;
  readonly agentName: string;
  readonly existingAgentArn?: string;
  readonly activationAttempt: string;
  readonly activationBudgetSeconds: number;
}

export type AgentState =
  | { readonly kind: 'activated'; readonly agentArn: string }
  | { readonly kind: 'external'; readonly agentArn: string }
  | { readonly kind: 'pending' };

/** What onEvent decided; isComplete carries it out. */
export type AgentPlan = 'keep' | 'use-existing' | 'activate';

export interface AgentDeps {
  readonly region: string;
  readonly httpGet?: HttpGet;
  readonly now?: () => number;
}

const AGENT_ARN_PATTERN = /^arn:aws[a-z-]*:datasync:[a-z0-9-]+:\d{12}:agent\/agent-[0-9a-z]+$/;
const EXTERNAL_PREFIX = 'external:';
const PENDING_PREFIX = 'pending:';

export function parseAgentProperties(properties: ResourceProperties): AgentProperties {
  const existingAgentArn = optionalString(properties, 'ExistingAgentArn');
  if (existingAgentArn !== undefined && !AGENT_ARN_PATTERN.test(existingAgentArn)) {
    throw new InvalidRequestError(
      `ResourceProperties.ExistingAgentArn ${JSON.stringify(existingAgentArn)} is not a DataSync agent ARN (arn:aws:datasync:<region>:<account>:agent/agent-…)`,
    );
  }
  return {
    instanceId: requireString(properties, 'InstanceId'),
    agentIp: requireString(properties, 'AgentIp'),
    agentName: requireString(properties, 'AgentName'),
    ...(existingAgentArn !== undefined ? { existingAgentArn } : {}),
    activationAttempt: optionalString(properties, 'ActivationAttempt') ?? '0',
    activationBudgetSeconds: requirePositiveInteger(properties, 'ActivationBudgetSeconds'),
  };
}

export function encodeAgentState(state: AgentState, instanceId: string): string {
  switch (state.kind) {
    case 'activated':
      return state.agentArn;
    case 'external':
      return `${EXTERNAL_PREFIX}${state.agentArn}`;
    case 'pending':
      return `${PENDING_PREFIX}${instanceId}`;
  }
}

/** Anything unrecognised (e.g. the RequestId the framework uses after a failed Create) owns nothing. */
export function decodeAgentState(physicalId: string): AgentState {
  if (AGENT_ARN_PATTERN.test(physicalId)) return { kind: 'activated', agentArn: physicalId };
  if (physicalId.startsWith(EXTERNAL_PREFIX))
    return { kind: 'external', agentArn: physicalId.slice(EXTERNAL_PREFIX.length) };
  return { kind: 'pending' };
}

export function planAgent(request: OnEventRequest, props: AgentProperties): AgentPlan {
  const previous =
    request.RequestType === 'Update' && request.PhysicalResourceId
      ? decodeAgentState(request.PhysicalResourceId)
      : undefined;
  const previousInstance = oldPropertiesOf(request)?.['InstanceId'];
  if (props.existingAgentArn !== undefined) {
    // The operator may copy the ARN this resource activated into the config: it stays ours.
    if (previous?.kind === 'activated' && previous.agentArn === props.existingAgentArn) return 'keep';
    return 'use-existing';
  }
  if (previous?.kind === 'activated' && previousInstance === props.instanceId) return 'keep';
  // Pending, an instance replaced (its old agent is deleted by the cleanup of the old id), or the
  // existing ARN removed from the config.
  return 'activate';
}

function context(request: OnEventRequest, props: AgentProperties, region: string): AgentContext {
  return {
    instanceId: props.instanceId,
    agentIp: props.agentIp,
    agentName: props.agentName,
    region,
    stackName: stackSelector(request.ResourceProperties, request.StackId),
    activationAttempt: props.activationAttempt,
  };
}

/** Deletes an agent this resource activated. Never throws: a stuck delete would block stack deletion. */
async function deleteOwnedAgent(state: AgentState): Promise<void> {
  if (state.kind !== 'activated') {
    logger.info('No agent owned by this resource to delete', { state: state.kind });
    return;
  }
  try {
    await datasync.send(new DeleteAgentCommand({ AgentArn: state.agentArn }));
    logger.info('Deleted DataSync agent', { agentArn: state.agentArn });
  } catch (error) {
    if (isNotFound(error)) {
      logger.info('DataSync agent already gone', { agentArn: state.agentArn });
    } else {
      logger.error('Could not delete DataSync agent; delete it by hand with `aws datasync delete-agent`', {
        agentArn: state.agentArn,
        error: describeError(error),
      });
    }
  }
}

export async function onAgentEvent(request: OnEventRequest, deps: AgentDeps): Promise<OnEventResponse> {
  if (request.RequestType === 'Delete') {
    await deleteOwnedAgent(decodeAgentState(request.PhysicalResourceId ?? ''));
    return {};
  }
  const props = parseAgentProperties(request.ResourceProperties);
  const plan = planAgent(request, props);
  const now = (deps.now ?? Date.now)();
  logger.info('DataSync agent setup planned', { requestType: request.RequestType, plan, instanceId: props.instanceId });
  return {
    PhysicalResourceId: currentPhysicalId(request) ?? encodeAgentState({ kind: 'pending' }, props.instanceId),
    Data: {
      SetupPlan: plan,
      ActivationDeadline: new Date(now + props.activationBudgetSeconds * 1000).toISOString(),
    },
  };
}

function readPlan(request: IsCompleteRequest): AgentPlan {
  const plan = request.Data?.['SetupPlan'];
  if (plan !== 'keep' && plan !== 'use-existing' && plan !== 'activate') {
    throw new InvalidRequestError(`isComplete event Data.SetupPlan is ${JSON.stringify(plan)}; onEvent always sets it`);
  }
  return plan;
}

function readDeadline(request: IsCompleteRequest): number {
  const raw = request.Data?.['ActivationDeadline'] ?? '';
  const deadline = Date.parse(raw);
  if (Number.isNaN(deadline)) {
    throw new InvalidRequestError(`isComplete event Data.ActivationDeadline ${JSON.stringify(raw)} is not a timestamp`);
  }
  return deadline;
}

function completed(state: AgentState, props: AgentProperties, instructions: string): IsCompleteResponse {
  const active = state.kind !== 'pending';
  return {
    IsComplete: true,
    PhysicalResourceId: encodeAgentState(state, props.instanceId),
    Data: {
      ActivationSuccess: active ? 'true' : 'false',
      AgentArn: active ? state.agentArn : '',
      SetupInstructions: instructions,
    },
  };
}

export async function isAgentComplete(request: IsCompleteRequest, deps: AgentDeps): Promise<IsCompleteResponse> {
  if (request.RequestType === 'Delete') return { IsComplete: true };
  const props = parseAgentProperties(request.ResourceProperties);
  const ctx = context(request, props, deps.region);
  const plan = readPlan(request);

  if (plan === 'keep') {
    const state = decodeAgentState(request.PhysicalResourceId);
    if (state.kind === 'pending')
      throw new InvalidRequestError(`plan keep needs an agent id, got ${request.PhysicalResourceId}`);
    const text =
      state.kind === 'activated'
        ? activatedInstructions(ctx, state.agentArn)
        : existingAgentInstructions(state.agentArn);
    return completed(state, props, text);
  }
  if (plan === 'use-existing') {
    const agentArn = props.existingAgentArn;
    if (agentArn === undefined)
      throw new InvalidRequestError('plan use-existing needs ResourceProperties.ExistingAgentArn');
    return completed({ kind: 'external', agentArn }, props, existingAgentInstructions(agentArn));
  }

  const deadline = readDeadline(request);
  try {
    const activationKey = await fetchActivationKey(
      props.agentIp,
      deps.region,
      deps.httpGet ? { get: deps.httpGet } : {},
    );
    const created = await datasync.send(
      new CreateAgentCommand({ ActivationKey: activationKey, AgentName: props.agentName }),
    );
    if (!created.AgentArn) throw new Error('CreateAgent returned no AgentArn');
    logger.info('Activated DataSync agent', { agentArn: created.AgentArn, instanceId: props.instanceId });
    return completed(
      { kind: 'activated', agentArn: created.AgentArn },
      props,
      activatedInstructions(ctx, created.AgentArn),
    );
  } catch (error) {
    const reason = error instanceof AgentNotReadyError ? error.message : describeError(error);
    const now = (deps.now ?? Date.now)();
    if (now < deadline) {
      logger.info('DataSync agent not activated yet; retrying', {
        reason,
        secondsLeft: Math.round((deadline - now) / 1000),
      });
      return NOT_COMPLETE;
    }
    logger.warn('DataSync agent activation budget spent; completing without an agent', {
      reason,
      instanceId: props.instanceId,
    });
    const waitedMinutes = Math.round(props.activationBudgetSeconds / 60);
    return completed({ kind: 'pending' }, props, activationFailedInstructions(ctx, reason, waitedMinutes));
  }
}
