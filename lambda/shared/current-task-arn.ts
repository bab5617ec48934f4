import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

/** How long a read of the parameter is trusted: a replaced task is noticed within a minute. */
export const TASK_ARN_CACHE_MS = 60_000;

let cached: { name: string; value: string; readAt: number } | undefined;

/**
 * The replication task's current ARN, from the SSM parameter the DMS stack keeps up to date (it
 * changes when the task is replaced; the ARN in this function's environment is only the one of its
 * last deployment). Cached for a minute per execution environment. ADR 0009.
 */
export async function currentTaskArn(ssm: SSMClient, parameterName: string, now = Date.now()): Promise<string> {
  if (cached?.name === parameterName && now - cached.readAt < TASK_ARN_CACHE_MS) return cached.value;
  const out = await ssm.send(new GetParameterCommand({ Name: parameterName }));
  const value = out.Parameter?.Value?.trim();
  if (!value) throw new Error(`SSM parameter ${parameterName} holds no replication task ARN`);
  cached = { name: parameterName, value, readAt: now };
  return value;
}

/** Forgets the cached value (tests, and a caller that has reason to distrust it). */
export function forgetCurrentTaskArn(): void {
  cached = undefined;
}
