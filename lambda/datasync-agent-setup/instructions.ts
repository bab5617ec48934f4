import { activationUrl } from './activation-key';

/**
 * Texts reported in the `SetupInstructions` attribute (and from there a stack output). They are
 * written for the operator who finds a stack that deployed without a working agent: every command
 * is complete and can be pasted.
 */

/** Where the environments are configured; the operator edits `dataSync.existingAgentArn` there. */
export const ENVIRONMENTS_FILE = 'lib/config/environments.ts';

/** The config field whose change re-runs activation (the construct passes it as ActivationAttempt). */
export const ATTEMPT_CONFIG_FIELD = 'dataSync.activationAttempt';

export interface AgentContext {
  /** The stack as `cdk deploy` selects it. */
  readonly stackName: string;
  readonly instanceId: string;
  readonly agentIp: string;
  readonly agentName: string;
  readonly region: string;
  readonly activationAttempt: string;
}

/**
 * CloudFormation accepts at most 4,096 bytes of custom resource response (ids and Data together),
 * so error texts from AWS are shortened before they are quoted.
 */
export const MAX_REASON_LENGTH = 300;

export function shorten(text: string, max = MAX_REASON_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function nextAttempt(current: string): string {
  const n = Number(current);
  return Number.isInteger(n) && n >= 0 ? String(n + 1) : `${current}-2`;
}

function retryHint(ctx: Pick<AgentContext, 'stackName' | 'activationAttempt'>): string {
  const next = nextAttempt(ctx.activationAttempt);
  // A sandbox stage only exists in the app when its name is given again.
  const sandbox = /^Sandbox-([a-z][a-z0-9-]*)\//.exec(ctx.stackName);
  const sandboxArg = sandbox ? ` -c sandbox=${sandbox[1]}` : '';
  return (
    `set ${ATTEMPT_CONFIG_FIELD} to ${next} for this environment in ${ENVIRONMENTS_FILE} and redeploy: ` +
    `\`npx cdk deploy ${ctx.stackName}${sandboxArg}\` (through the pipeline: commit and push)`
  );
}

export function activationFailedInstructions(ctx: AgentContext, reason: string, waitedMinutes: number): string {
  return [
    `The DataSync agent on instance ${ctx.instanceId} (${ctx.agentIp}) was not activated within ${waitedMinutes} minutes: ${shorten(reason)}.`,
    'The stack deployed without an agent; the source location and the task are created as soon as an agent exists.',
    `Option 1, retry: once the instance is running and reachable (EC2 status checks passed), ${retryHint(ctx)}.`,
    'Option 2, activate by hand:',
    `  1. From a host inside the VPC that reaches ${ctx.agentIp} on TCP 80 (for example an SSM session on an instance in the same private subnets), get a key (valid 30 minutes):`,
    `     curl "${activationUrl(ctx.agentIp, ctx.region)}"`,
    `  2. aws datasync create-agent --region ${ctx.region} --agent-name ${ctx.agentName} --activation-key <KEY FROM STEP 1>`,
    `  3. Set dataSync.existingAgentArn to the returned AgentArn for this environment in ${ENVIRONMENTS_FILE} and redeploy ${ctx.stackName}.`,
    `If create-agent reports the key as used, the agent may already be active: look for it with \`aws datasync list-agents --region ${ctx.region}\`.`,
  ].join('\n');
}

export function activatedInstructions(ctx: AgentContext, agentArn: string): string {
  return `DataSync agent ${agentArn} is active on instance ${ctx.instanceId} (${ctx.agentIp}); it is deleted with the stack.`;
}

export function existingAgentInstructions(agentArn: string): string {
  return (
    `Using DataSync agent ${agentArn} from dataSync.existingAgentArn. It was activated outside this stack and is ` +
    `not deleted with it; remove it with \`aws datasync delete-agent --agent-arn ${agentArn}\` when it is no longer needed.`
  );
}

export interface TransferContext {
  /** The stack as `cdk deploy` selects it. */
  readonly stackName: string;
  readonly activationAttempt: string;
  readonly sourceUri: string;
  readonly scheduleExpression?: string;
}

export function waitingForAgentInstructions(ctx: TransferContext): string {
  return `The source location (${ctx.sourceUri}) and the DataSync task are not created yet: there is no active agent (see above).`;
}

export function transferReadyInstructions(ctx: TransferContext, taskArn: string): string {
  const when = ctx.scheduleExpression
    ? `It runs on the schedule ${ctx.scheduleExpression}; start it now with`
    : 'It runs on demand; start it with';
  return `DataSync task ${taskArn} copies ${ctx.sourceUri} to the S3 location. ${when} \`aws datasync start-task-execution --task-arn ${taskArn}\`.`;
}

export function transferFailedInstructions(ctx: TransferContext, step: string, reason: string): string {
  return [
    `${step} failed: ${shorten(reason)}.`,
    'Nothing half-made was kept. Fix the cause (agent status `aws datasync describe-agent`, the share and its export/permissions, the SMB secret), then ' +
      `${retryHint(ctx)}.`,
  ].join('\n');
}

export function transferUpdateFailedInstructions(ctx: TransferContext, taskArn: string, reason: string): string {
  return [
    `Updating DataSync task ${taskArn} failed: ${shorten(reason)}. The task keeps its previous settings.`,
    `Fix the cause, then ${retryHint(ctx)}.`,
  ].join('\n');
}

/** `arn:aws:cloudformation:region:account:stack/<name>/<uuid>` → `<name>`. */
export function stackNameFromId(stackId: string): string {
  const resource = stackId.split(':')[5] ?? '';
  return resource.split('/')[1] ?? stackId;
}

/**
 * How `cdk deploy` selects the stack: its construct path (`Dev/DataSync` inside a Stage), which
 * the construct passes as StackPath; the CloudFormation stack name when it is absent.
 */
export function stackSelector(properties: Readonly<Record<string, unknown>>, stackId: string): string {
  const path = properties['StackPath'];
  return typeof path === 'string' && path !== '' ? path : stackNameFromId(stackId);
}
