/**
 * `npm run cutover -- plan|start|status|approve|reject|rollback --env <env>`: the operator's side of the
 * cutover workflow. The workflow is found through the SSM parameter the construct writes,
 * `/payment/<env>/cutover/state-machine-arn`. Commands are functions over injected clients so tests
 * run them with mocks.
 */
import { readFileSync } from 'node:fs';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import {
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type ExecutionListItem,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { validatePlan, type Plan } from '../../lambda/cutover-checks/plan';
import { ENV_NAMES } from '../../lib/config/environment-config';

export const COMMANDS = ['plan', 'start', 'status', 'approve', 'reject', 'rollback'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CliArgs {
  readonly command: Command;
  readonly env: string;
  readonly region: string;
  readonly planFile: string;
  readonly reason: string;
}

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export const USAGE =
  'usage: npm run cutover -- plan|start|status|approve|reject|rollback --env <dev|staging|prod> [--region us-east-1] [--plan cutover-plan.json] [--reason "..."]';

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) {
    throw new CliError(`unknown command ${JSON.stringify(command ?? '')}\n${USAGE}`);
  }
  const flags: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i]!;
    const value = rest[i + 1];
    if (!flag.startsWith('--') || value === undefined || value.startsWith('--')) {
      throw new CliError(`${flag}: expected --name value\n${USAGE}`);
    }
    flags[flag.slice(2)] = value;
  }
  const known = ['env', 'region', 'plan', 'reason'];
  for (const f of Object.keys(flags)) if (!known.includes(f)) throw new CliError(`unknown option --${f}\n${USAGE}`);
  if (!flags.env) throw new CliError(`--env is required\n${USAGE}`);
  if (!(ENV_NAMES as readonly string[]).includes(flags.env)) {
    throw new CliError(
      `unknown stage environment ${JSON.stringify(flags.env)}; expected one of ${ENV_NAMES.join(', ')}`,
    );
  }
  return {
    command: command as Command,
    env: flags.env,
    region: flags.region ?? env.AWS_REGION ?? 'us-east-1',
    planFile: flags.plan ?? 'cutover-plan.json',
    reason: flags.reason ?? `${command} from the command line`,
  };
}

export interface Clients {
  readonly sfn: SFNClient;
  readonly ssm: SSMClient;
  readonly sts: STSClient;
}

export type Print = (line: string) => void;

/** Defaults the CLI validates a plan with; the deployed function validates again with the stage's bounds. */
const LOCAL_DEFAULTS = {
  thresholds: { cdcLatencySeconds: 60, splitTolerance: 0.1, minRequests: 100, minHealthyTargets: 1 },
  approvalTimeoutSeconds: 1800,
  checkIntervalSeconds: 60,
  budgetSeconds: 24 * 3600 - 8 * 900,
};

export function readPlan(
  file: string,
  read: (f: string) => string = (f) => readFileSync(f, 'utf8'),
): { raw: unknown; plan: Plan } {
  let text: string;
  try {
    text = read(file);
  } catch {
    throw new CliError(
      `cannot read the plan file ${file}; pass --plan <file> (see docs/cutover-workflow.md for the format)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${file} is not JSON: ${(e as Error).message}`);
  }
  try {
    return { raw, plan: validatePlan(raw, LOCAL_DEFAULTS) };
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`);
  }
}

export const parameterName = (env: string) => `/payment/${env}/cutover/state-machine-arn`;
export const commandParameterName = (env: string) => `/payment/${env}/cutover/command`;

export async function stateMachineArn(clients: Clients, args: CliArgs): Promise<string> {
  try {
    const out = await clients.ssm.send(new GetParameterCommand({ Name: parameterName(args.env) }));
    if (!out.Parameter?.Value) throw new Error('empty');
    return out.Parameter.Value;
  } catch (e) {
    if ((e as Error).name === 'ParameterNotFound' || (e as Error).message === 'empty') {
      throw new CliError(
        `no cutover workflow for ${args.env} in ${args.region}: ${parameterName(args.env)} does not exist (is the payment stage deployed there? try --region)`,
      );
    }
    throw e;
  }
}

async function running(clients: Clients, arn: string): Promise<ExecutionListItem[]> {
  const out = await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING' }));
  return out.executions ?? [];
}

async function onlyRunning(clients: Clients, arn: string, env: string): Promise<ExecutionListItem> {
  const list = await running(clients, arn);
  if (list.length === 0) throw new CliError(`no cutover is running for ${env}`);
  return list[0]!;
}

async function history(clients: Clients, executionArn: string): Promise<HistoryEvent[]> {
  const out = await clients.sfn.send(
    new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 100, includeExecutionData: true }),
  );
  return out.events ?? [];
}

/** The approval task token, from the approval publish the execution is waiting on. */
export function pendingApproval(events: readonly HistoryEvent[]): { token: string; approver?: string } | undefined {
  const latest = events.find((e) => e.type === 'TaskStateEntered' || e.type === 'TaskStateExited');
  if (latest?.type !== 'TaskStateEntered' || latest.stateEnteredEventDetails?.name !== 'Request Approval') {
    return undefined;
  }
  const scheduled = events.find((e) => e.type === 'TaskScheduled');
  const parameters = JSON.parse(scheduled?.taskScheduledEventDetails?.parameters ?? '{}') as { Message?: unknown };
  const message = (typeof parameters.Message === 'string' ? JSON.parse(parameters.Message) : parameters.Message) as
    { taskToken?: string; approver?: string } | undefined;
  if (!message?.taskToken) return undefined;
  return { token: message.taskToken, ...(message.approver ? { approver: message.approver } : {}) };
}

/** The state the execution is in and the input it entered with. */
export function currentState(
  events: readonly HistoryEvent[],
): { name: string; input: Record<string, unknown> } | undefined {
  const entered = events.find((e) => e.stateEnteredEventDetails !== undefined);
  if (!entered?.stateEnteredEventDetails) return undefined;
  return {
    name: entered.stateEnteredEventDetails.name ?? '?',
    input: JSON.parse(entered.stateEnteredEventDetails.input ?? '{}') as Record<string, unknown>,
  };
}

const bar = (done: number, total: number, width = 20) => {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
};

/** Human-readable status lines from the state input (what the workflow last read and decided). */
export function describeStatus(
  execution: ExecutionListItem,
  state: { name: string; input: Record<string, unknown> },
): string[] {
  const i = state.input as {
    phase?: string;
    plan?: Plan;
    current?: { step?: { number: number; targetWeight: number; ticks: number; bakeSeconds: number } };
    bake?: { remaining?: number };
    weights?: { after?: { source: number; target: number } };
    reads?: {
      metrics?: { MetricDataResults?: { Id?: string; Values?: number[] }[] };
      bakeAlarms?: { MetricAlarms?: { AlarmName?: string }[] };
    };
    gate?: { summary?: string };
    precheck?: { summary?: string };
  };
  const lines = [
    `execution ${execution.name} (started ${execution.startDate?.toISOString() ?? '?'})`,
    `state: ${state.name}, phase: ${i.phase ?? '?'}`,
  ];
  const step = i.current?.step;
  if (step && i.plan) lines.push(`step ${step.number} of ${i.plan.stepCount}: target ${step.targetWeight} %`);
  if (i.weights?.after) lines.push(`weights: source ${i.weights.after.source}, target ${i.weights.after.target}`);
  const latency = (id: string) => i.reads?.metrics?.MetricDataResults?.find((r) => r.Id === id)?.Values?.[0];
  const src = latency('cdcLatencySource');
  const tgt = latency('cdcLatencyTarget');
  if (i.reads?.metrics) {
    lines.push(
      `CDC latency: source ${src === undefined ? 'no data' : `${src} s`}, target ${tgt === undefined ? 'no data' : `${tgt} s`}`,
    );
  }
  const summary = i.gate?.summary ?? i.precheck?.summary;
  if (summary) lines.push(`last checks: ${summary}`);
  const firing = i.reads?.bakeAlarms?.MetricAlarms?.map((a) => a.AlarmName) ?? [];
  if (i.reads?.bakeAlarms) lines.push(`alarms: ${firing.length ? `in ALARM: ${firing.join(', ')}` : 'none in ALARM'}`);
  if (
    step &&
    i.bake?.remaining !== undefined &&
    [
      'Bake',
      'Read Command',
      'Check Alarms During Bake',
      'Count Bake Tick',
      'Bake Done?',
      'Rollback Requested?',
      'Alarm During Bake?',
    ].includes(state.name)
  ) {
    const done = step.ticks - i.bake.remaining;
    const left = Math.round((i.bake.remaining * step.bakeSeconds) / step.ticks);
    lines.push(`baking ${bar(done, step.ticks)} ${done}/${step.ticks} checks, about ${Math.ceil(left / 60)} min left`);
  }
  if (state.name === 'Request Approval')
    lines.push('waiting for approval: npm run cutover -- approve|reject --env <env>');
  return lines;
}

async function caller(clients: Clients): Promise<string> {
  const id = await clients.sts.send(new GetCallerIdentityCommand({}));
  return id.Arn ?? 'unknown';
}

export async function runCommand(args: CliArgs, clients: Clients, print: Print, now = () => new Date()): Promise<void> {
  if (args.command === 'plan') {
    const { plan } = readPlan(args.planFile);
    print(`plan ${args.planFile} is valid: ${plan.stepCount} steps, flip before the last`);
    for (const s of [...plan.preFlipSteps, plan.finalStep]) {
      print(
        `  step ${s.number}: target ${s.targetWeight} %, bake ${s.bakeSeconds / 60} min (${s.ticks} checks)${s === plan.finalStep ? ', after the write flip' : ''}`,
      );
    }
    print(`  approver ${plan.approver}; at least ${Math.ceil(plan.plannedSeconds / 60)} min with the approval window`);
    return;
  }
  const arn = await stateMachineArn(clients, args);
  switch (args.command) {
    case 'start': {
      const { raw } = readPlan(args.planFile);
      const busy = await running(clients, arn);
      if (busy.length > 0) {
        throw new CliError(
          `a cutover is already running for ${args.env}: ${busy.map((e) => e.name).join(', ')}; watch it with status or stop it with rollback`,
        );
      }
      const name = `cutover-${args.env}-${now()
        .toISOString()
        .replace(/[^0-9]/g, '')
        .slice(0, 14)}`;
      const out = await clients.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: arn,
          name,
          input: JSON.stringify({ action: 'cutover', plan: raw, reason: args.reason }),
        }),
      );
      print(`started ${name}: ${out.executionArn}`);
      return;
    }
    case 'status': {
      const list = await running(clients, arn);
      if (list.length === 0) {
        print(`no cutover running for ${args.env}`);
        return;
      }
      const state = currentState(await history(clients, list[0]!.executionArn!));
      for (const line of state ? describeStatus(list[0]!, state) : ['no state entered yet']) print(line);
      return;
    }
    case 'approve':
    case 'reject': {
      const execution = await onlyRunning(clients, arn, args.env);
      const pending = pendingApproval(await history(clients, execution.executionArn!));
      if (!pending) throw new CliError(`${execution.name} is not waiting for approval (see status)`);
      const who = await caller(clients);
      if (pending.approver?.startsWith('arn:') && pending.approver !== who) {
        throw new CliError(`the plan names ${pending.approver} as approver; you are ${who}`);
      }
      if (args.command === 'approve') {
        await clients.sfn.send(
          new SendTaskSuccessCommand({
            taskToken: pending.token,
            output: JSON.stringify({ approvedBy: who, at: now().toISOString(), reason: args.reason }),
          }),
        );
        print(`approved ${execution.name} as ${who}`);
      } else {
        await clients.sfn.send(
          new SendTaskFailureCommand({
            taskToken: pending.token,
            error: 'Cutover.Rejected',
            cause: `${who}: ${args.reason}`,
          }),
        );
        print(`rejected ${execution.name}`);
      }
      return;
    }
    case 'rollback': {
      const who = await caller(clients);
      const list = await running(clients, arn);
      if (list.length === 0) {
        const name = `rollback-${args.env}-${now()
          .toISOString()
          .replace(/[^0-9]/g, '')
          .slice(0, 14)}`;
        await clients.sfn.send(
          new StartExecutionCommand({
            stateMachineArn: arn,
            name,
            input: JSON.stringify({ action: 'rollback', plan: null, reason: `${who}: ${args.reason}` }),
          }),
        );
        print(`no cutover running; started rollback ${name}`);
        return;
      }
      const execution = list[0]!;
      const pending = pendingApproval(await history(clients, execution.executionArn!));
      if (pending) {
        await clients.sfn.send(
          new SendTaskFailureCommand({
            taskToken: pending.token,
            error: 'Cutover.RollbackRequested',
            cause: `${who}: ${args.reason}`,
          }),
        );
        print(`${execution.name} was waiting for approval; refused it (nothing had changed)`);
        return;
      }
      await clients.ssm.send(
        new PutParameterCommand({
          Name: commandParameterName(args.env),
          Overwrite: true,
          Type: 'String',
          Value: JSON.stringify({
            command: 'rollback',
            execution: execution.name,
            by: who,
            at: now().toISOString(),
            reason: args.reason,
          }),
        }),
      );
      print(`rollback requested for ${execution.name}; it acts at its next bake check (watch with status)`);
      return;
    }
  }
}

/** Turns SDK credential errors into a message that says what to do. */
export function explain(error: unknown): string {
  const e = error as Error;
  if (e instanceof CliError) return e.message;
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message)) {
    return 'no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) for the payment account';
  }
  if (e.name === 'ExpiredTokenException' || e.name === 'ExpiredToken') return 'your AWS session expired: log in again';
  return `${e.name}: ${e.message}`;
}
