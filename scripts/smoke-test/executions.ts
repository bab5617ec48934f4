import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';

export type ExecutionDescription = Pick<
  DescribeExecutionCommandOutput,
  'executionArn' | 'name' | 'status' | 'input' | 'output' | 'error' | 'cause' | 'startDate' | 'stopDate'
>;

/**
 * What the workflow's smoke path returns (OrchestrationStack, `Smoke Check Result`): the replication
 * task it observed, and that it did not start it.
 */
export interface SmokeCheckOutput {
  replicationTaskArn?: string;
  replicationTaskStatus?: string;
  replicationStarted?: boolean;
}

/** The `smokeCheck` of an execution's output, or undefined when the output has none. */
export function parseSmokeCheck(text: string | undefined): SmokeCheckOutput | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null) return undefined;
    const check = (v as { smokeCheck?: unknown }).smokeCheck;
    return typeof check === 'object' && check !== null && !Array.isArray(check)
      ? (check as SmokeCheckOutput)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The state machine input the smoke test relies on (set by the Step Functions trigger). */
export interface OrchestrationInput {
  correlationId?: string;
  dataset?: string;
  bucket?: string;
  /** The validated object, e.g. validated/smoke/<runId>/good.csv. */
  key?: string;
  versionId?: string;
  reportKey?: string;
}

export function parseInput(text: string | undefined): OrchestrationInput | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as OrchestrationInput) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Looks for the execution whose input names one of `keys` in `bucket`, among executions started
 * since `sinceMs`. ListExecutions returns newest first, so paging stops at the first older one.
 * `examined` remembers executions already described that are not ours, so a poll costs one list call.
 */
export async function findExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  bucket: string,
  keys: readonly string[],
  sinceMs: number,
  examined: Set<string>,
): Promise<{ found?: ExecutionDescription; listed: number }> {
  let token: string | undefined;
  let listed = 0;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 100, nextToken: token }));
    for (const ex of page.executions ?? []) {
      if (ex.startDate && ex.startDate.getTime() < sinceMs) return { listed };
      listed++;
      if (!ex.executionArn || examined.has(ex.executionArn)) continue;
      const described = await describe(sfn, ex.executionArn);
      const input = parseInput(described.input);
      if (input?.bucket === bucket && typeof input.key === 'string' && keys.includes(input.key)) {
        return { found: described, listed };
      }
      examined.add(ex.executionArn);
    }
    token = page.nextToken;
  } while (token);
  return { listed };
}

export async function describe(sfn: SFNClient, executionArn: string): Promise<ExecutionDescription> {
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

/** Describes an execution that may not have started yet; undefined until it exists. */
export async function describeIfStarted(
  sfn: SFNClient,
  executionArn: string,
): Promise<ExecutionDescription | undefined> {
  try {
    return await describe(sfn, executionArn);
  } catch (e) {
    if ((e as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
    throw e;
  }
}

/** Execution ARNs are the state machine's ARN with `execution` for `stateMachine` and the execution name appended. */
export function executionArnFor(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}
