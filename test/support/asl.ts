/**
 * Runs Step Functions definitions from synthesized CloudFormation templates in-process.
 *
 * `definitionFromTemplate` turns the `DefinitionString` of a state machine synthesized in a bare
 * stack (its inputs imported by name or ARN, so they are literals) into the ASL document
 * CloudFormation would deploy: it resolves what such a template still holds, `Fn::Join`, the
 * pseudo parameters and the ARNs of resources of the same template, and validates the result.
 * `runDefinition` executes it with aws-local-stepfunctions, Task states answered by local handlers,
 * and reports what happened.
 */
import aslValidator from 'asl-validator';
import type { StateMachineDefinition } from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };

// The package is ESM-first; its CommonJS build is what `require` loads here (tsconfig module: commonjs).
type AwsLocalStepFunctions = typeof import('aws-local-stepfunctions', { with: { 'resolution-mode': 'import' } });
const { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('aws-local-stepfunctions') as AwsLocalStepFunctions;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An Amazon States Language document, as far as the harness needs to look into it. */
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  Comment?: string;
  [key: string]: unknown;
}

export interface AslState {
  Type: string;
  [key: string]: Json | undefined;
}

type CfnResource = { Type: string; Properties?: Record<string, unknown> };

export interface ResolveOptions {
  /** @default 'us-west-2' (the migration stage's default region) */
  readonly region?: string;
  /** @default '123456789012' */
  readonly account?: string;
  /** @default 'aws' */
  readonly partition?: string;
}

/** Thrown when the template cannot be turned into a definition; the message names the place. */
export class TemplateResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateResolutionError';
  }
}

/** Thrown when asl-validator rejects a definition; `errors` holds its findings. */
export class AslValidationError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(`State machine definition is invalid:\n  ${errors.join('\n  ')}`);
    this.name = 'AslValidationError';
  }
}

/**
 * Finds the `AWS::StepFunctions::StateMachine` in a synthesized template (the only one, or the one
 * with `logicalId`), resolves its `DefinitionString`, parses and validates it.
 */
export function definitionFromTemplate(template: object, logicalId?: string, opts: ResolveOptions = {}): AslDefinition {
  const resources = (template as { Resources?: Record<string, CfnResource> }).Resources ?? {};
  const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  const ids = machines.map(([id]) => id).join(', ');
  let entry: [string, CfnResource] | undefined;
  if (logicalId !== undefined) {
    entry = machines.find(([id]) => id === logicalId);
    if (!entry) {
      throw new TemplateResolutionError(
        `No AWS::StepFunctions::StateMachine with logical id ${logicalId}; the template has: ${ids || 'none'}`,
      );
    }
  } else {
    if (machines.length !== 1) {
      throw new TemplateResolutionError(
        `Expected exactly one AWS::StepFunctions::StateMachine, found ${machines.length}` +
          (machines.length ? ` (${ids}); pass a logical id` : ''),
      );
    }
    entry = machines[0];
  }
  const [id, resource] = entry!;
  const env = {
    region: opts.region ?? 'us-west-2',
    account: opts.account ?? '123456789012',
    partition: opts.partition ?? 'aws',
  };
  const text = resolve(resource.Properties?.DefinitionString, resources, env, `${id}.DefinitionString`);
  if (typeof text !== 'string') {
    throw new TemplateResolutionError(`${id}.DefinitionString resolved to ${typeof text}, expected a string`);
  }
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (e) {
    throw new TemplateResolutionError(
      `${id}.DefinitionString is not JSON after resolution (${(e as Error).message}): ${text.slice(0, 300)}`,
    );
  }
  validateDefinition(definition);
  return definition;
}

/** Validates with asl-validator (ARN and JSONPath checks on) and throws `AslValidationError` with its findings. */
function validateDefinition(definition: unknown): asserts definition is AslDefinition {
  // The validator writes QueryLanguage into the states it visits; keep the caller's object as it was.
  const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });
  if (!result.isValid) {
    throw new AslValidationError(result.errors.map((e) => `${e['Error code']}: ${e.Message}`));
  }
}

// ---------------------------------------------------------------------------------------------
// What a bare stack's definition still holds

interface Env {
  region: string;
  account: string;
  partition: string;
}

const PSEUDO_PARAMETERS: Record<string, (env: Env) => string> = {
  'AWS::Partition': (env) => env.partition,
  'AWS::Region': (env) => env.region,
  'AWS::AccountId': (env) => env.account,
  'AWS::URLSuffix': (env) => (env.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'),
};

/**
 * `Fn::Join`, pseudo parameters and `Fn::GetAtt [<function>, Arn]` of a Lambda function of the same
 * template, which a workflow invokes by ARN. Anything else (an import, a reference to another kind
 * of resource) means an input was not imported as a literal: the error says where.
 */
function resolve(value: unknown, resources: Record<string, CfnResource>, env: Env, path: string): Json {
  if (value === null || typeof value !== 'object') return value as Json;
  if (Array.isArray(value)) return value.map((v, i) => resolve(v, resources, env, `${path}[${i}]`));
  const entries = Object.entries(value as Record<string, unknown>);
  const [fn, arg] = entries.length === 1 ? entries[0]! : [];
  if (fn === 'Fn::Join' && Array.isArray(arg) && arg.length === 2 && typeof arg[0] === 'string') {
    const parts = resolve(arg[1], resources, env, `${path}[1]`);
    if (!Array.isArray(parts) || parts.some((p) => typeof p !== 'string' && typeof p !== 'number')) {
      throw new TemplateResolutionError(`${path}: Fn::Join needs a list of strings, got ${JSON.stringify(parts)}`);
    }
    return parts.join(arg[0]);
  }
  if (fn === 'Ref' && typeof arg === 'string' && arg in PSEUDO_PARAMETERS) return PSEUDO_PARAMETERS[arg]!(env);
  if (fn === 'Fn::GetAtt' && Array.isArray(arg) && arg[1] === 'Arn') {
    const target = resources[String(arg[0])];
    if (target?.Type === 'AWS::Lambda::Function') {
      const name = target.Properties?.FunctionName;
      return `arn:${env.partition}:lambda:${env.region}:${env.account}:function:${typeof name === 'string' ? name : String(arg[0])}`;
    }
  }
  if (fn !== undefined && (fn === 'Ref' || fn.startsWith('Fn::'))) {
    throw new TemplateResolutionError(
      `${path}: ${fn} ${JSON.stringify(arg)} is not resolved by the test harness; import the input by name or ARN`,
    );
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, resources, env, `${path}.${k}`)]));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Local execution

/** Answers a Task state locally; receives the state's effective input (after InputPath and Parameters). */
export type TaskHandler = (input: Json) => Promise<Json | undefined | void> | Json | undefined | void;

export interface RunDefinitionOptions {
  /** One handler per Task state name (nested Parallel/Map states included). Every Task state needs one. */
  readonly handlers: Record<string, TaskHandler>;
  /** Milliseconds to wait per Wait state name, or `'all-zero'` for no waiting anywhere. @default real waits */
  readonly waitOverrides?: Record<string, number> | 'all-zero';
  /** Milliseconds between retries per state name (a list sets it per retrier), or `'all-zero'`. @default real backoff */
  readonly retryOverrides?: Record<string, number | number[]> | 'all-zero';
  /** Context object fields (e.g. `Execution.Id`, `Execution.Name`) visible to `$$` paths. */
  readonly context?: Record<string, unknown>;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One entry of aws-local-stepfunctions' event log, narrowed to what tests read. */
export interface ExecutionEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  Error?: string;
  Cause?: unknown;
  retry?: { attempt: number };
  index?: number;
}

export interface RunResult {
  status: ExecutionStatus;
  /** The execution's output when it SUCCEEDED. */
  output?: Json;
  /** Error name on FAILED (e.g. a Fail state's Error, or a handler error's `name`); `States.Timeout` on TIMED_OUT. */
  error?: string;
  cause?: string;
  /** States entered (StateEntered events, nested ones included); a retry re-runs a state without entering it again. */
  transitions: number;
  /** StateRetried events. */
  retries: number;
  /** Names of the states entered, in order. */
  visited: string[];
  events: ExecutionEvent[];
}

/**
 * Error a handler throws to make its Task fail with a given error name, so `Retry` and `Catch`
 * match it by `ErrorEquals` (aws-local-stepfunctions compares the thrown error's `name`).
 */
export function taskError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** Number of states entered in an event log. */
export function countTransitions(events: readonly ExecutionEvent[]): number {
  return events.filter((e) => e.type === 'StateEntered').length;
}

/** Names of the states entered in an event log, in order. */
export function visitedStates(events: readonly ExecutionEvent[]): string[] {
  return events.filter((e) => e.type === 'StateEntered' && e.state).map((e) => e.state!.name);
}

/** Names of all states of a type, including those inside Parallel branches and Map processors. */
export function stateNamesOfType(definition: AslDefinition, type: string): string[] {
  const names: string[] = [];
  const visit = (states: Record<string, AslState>): void => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === type) names.push(name);
      const nested: unknown[] = [
        ...(Array.isArray(state.Branches) ? state.Branches : []),
        state.ItemProcessor,
        state.Iterator,
      ];
      for (const n of nested) {
        if (isPlainObject(n) && isPlainObject(n.States)) visit(n.States as Record<string, AslState>);
      }
    }
  };
  visit(definition.States);
  return names;
}

/**
 * Runs a definition locally. Every Task state must have a handler (otherwise the library would try
 * to invoke a real Lambda function), and every handler must name a Task state (a renamed state
 * would otherwise leave a test silently exercising nothing).
 */
export async function runDefinition(
  definition: AslDefinition | object,
  input: Json,
  options: RunDefinitionOptions,
): Promise<RunResult> {
  if (typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers !== 'function') {
    throw new Error(
      'aws-local-stepfunctions needs Promise.withResolvers (Node 22+); load test/support/polyfills.ts first',
    );
  }
  const def = definition as AslDefinition;
  const tasks = stateNamesOfType(def, 'Task');
  const missing = tasks.filter((t) => !(t in options.handlers));
  if (missing.length) throw new Error(`No local handler for Task state(s): ${missing.join(', ')}`);
  const unknown = Object.keys(options.handlers).filter((h) => !tasks.includes(h));
  if (unknown.length) {
    throw new Error(
      `Handlers name states that are not Task states: ${unknown.join(', ')} (Task states: ${tasks.join(', ')})`,
    );
  }

  const waitTimeOverrides =
    options.waitOverrides === 'all-zero'
      ? Object.fromEntries(stateNamesOfType(def, 'Wait').map((n) => [n, 0]))
      : options.waitOverrides;
  const retryIntervalOverrides =
    options.retryOverrides === 'all-zero'
      ? Object.fromEntries(allStateNames(def).map((n) => [n, 0]))
      : options.retryOverrides;
  const taskResourceLocalHandlers = Object.fromEntries(
    Object.entries(options.handlers).map(([name, fn]) => [
      name,
      async (i: unknown) => ((await fn(i as Json)) ?? null) as never,
    ]),
  );

  // The library validates on construction too; our own validation already ran with the same checks.
  const machine = new StateMachine(def as unknown as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    ...(options.context ? { context: options.context } : {}),
  });
  const events: ExecutionEvent[] = [];
  const collected = (async () => {
    for await (const e of execution.eventLogs) events.push(e as unknown as ExecutionEvent);
  })();

  let result: Omit<RunResult, 'transitions' | 'retries' | 'visited' | 'events'>;
  try {
    const output = (await execution.result) as Json;
    result = { status: 'SUCCEEDED', output };
  } catch (e) {
    if (e instanceof ExecutionError) {
      result = { status: 'FAILED' };
    } else if (e instanceof ExecutionTimeoutError) {
      result = { status: 'TIMED_OUT', error: 'States.Timeout' };
    } else if (e instanceof ExecutionAbortedError) {
      result = { status: 'ABORTED' };
    } else {
      throw e;
    }
  }
  await collected;
  if (result.status === 'FAILED') {
    const failed = events.find((e) => e.type === 'ExecutionFailed');
    result.error = failed?.Error;
    result.cause = causeText(failed?.Cause);
  }
  return {
    ...result,
    transitions: countTransitions(events),
    retries: events.filter((e) => e.type === 'StateRetried').length,
    visited: visitedStates(events),
    events,
  };
}

function allStateNames(definition: AslDefinition): string[] {
  const types = ['Task', 'Parallel', 'Map', 'Pass', 'Wait', 'Choice', 'Succeed', 'Fail'];
  return types.flatMap((t) => stateNamesOfType(definition, t));
}

function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}
