/**
 * `approve <stage>` and the pipeline part of `status`. The pipeline has one stage per environment
 * (CDK Pipelines names it after the stage id); staging and prod start with a manual approval action
 * `Promote-to-<env>`, and each stage ends with the smoke test `SmokeTest-<env>`.
 */
import {
  GetPipelineStateCommand,
  PutApprovalResultCommand,
  type GetPipelineStateCommandOutput,
} from '@aws-sdk/client-codepipeline';
import { ENV_NAMES, type EnvName } from '../../lib/config/environment-config';
import type { OpsClients } from './clients';
import { explainFailure, OpsError } from './errors';
import { PIPELINE_STAGE_IDS } from './locate';

export interface StageSummary {
  readonly name: string;
  /** InProgress, Succeeded, Failed, Stopped, ... or 'not run'. */
  readonly status: string;
}

export interface ActionSummary {
  readonly stage: string;
  readonly action: string;
  readonly status: string;
  readonly summary?: string;
  readonly token?: string;
  readonly lastChange?: Date;
}

export interface PendingApproval {
  readonly env: EnvName;
  readonly action: string;
  readonly token: string;
  /** The smoke test of the environment before it, in the same pipeline run when there is one. */
  readonly previousSmokeTest?: ActionSummary;
}

export const approvalAction = (env: EnvName): string => `Promote-to-${env}`;
export const smokeTestAction = (env: EnvName): string => `SmokeTest-${env}`;

export function summariseStages(state: GetPipelineStateCommandOutput): StageSummary[] {
  return (state.stageStates ?? []).map((s) => ({
    name: s.stageName ?? '?',
    status: s.latestExecution?.status ?? 'not run',
  }));
}

export function actions(state: GetPipelineStateCommandOutput): ActionSummary[] {
  return (state.stageStates ?? []).flatMap((s) =>
    (s.actionStates ?? []).map((a) => ({
      stage: s.stageName ?? '?',
      action: a.actionName ?? '?',
      status: a.latestExecution?.status ?? 'not run',
      ...(a.latestExecution?.summary ? { summary: a.latestExecution.summary } : {}),
      ...(a.latestExecution?.token ? { token: a.latestExecution.token } : {}),
      ...(a.latestExecution?.lastStatusChange ? { lastChange: a.latestExecution.lastStatusChange } : {}),
    })),
  );
}

/** Approvals waiting for a person, each with the smoke test result that should decide it. */
export function pendingApprovals(state: GetPipelineStateCommandOutput): PendingApproval[] {
  const all = actions(state);
  const pending: PendingApproval[] = [];
  ENV_NAMES.forEach((env, i) => {
    const approval = all.find((a) => a.action === approvalAction(env) && a.status === 'InProgress' && a.token);
    if (!approval) return;
    const previous = i > 0 ? ENV_NAMES[i - 1] : undefined;
    const smoke = previous ? all.find((a) => a.action === smokeTestAction(previous)) : undefined;
    pending.push({
      env,
      action: approval.action,
      token: approval.token!,
      ...(smoke ? { previousSmokeTest: smoke } : {}),
    });
  });
  return pending;
}

export async function pipelineState(clients: OpsClients, pipelineName: string): Promise<GetPipelineStateCommandOutput> {
  try {
    return await clients.pipeline.codePipeline.send(new GetPipelineStateCommand({ name: pipelineName }));
  } catch (e) {
    throw new OpsError(explainFailure(e, `reading the state of pipeline ${pipelineName}`));
  }
}

/**
 * Approves the promotion to `env` if it is waiting and the previous environment's smoke test
 * succeeded; refuses otherwise, saying why.
 */
export async function approve(clients: OpsClients, pipelineName: string, env: EnvName, who: string): Promise<string> {
  const state = await pipelineState(clients, pipelineName);
  const pending = pendingApprovals(state).find((p) => p.env === env);
  if (!pending) {
    throw new OpsError(
      `No approval is waiting for ${env} in pipeline ${pipelineName} (stage ${PIPELINE_STAGE_IDS[env]}, action ${approvalAction(env)}); run 'status' to see where the pipeline is.`,
    );
  }
  const smoke = pending.previousSmokeTest;
  if (smoke && smoke.status !== 'Succeeded') {
    throw new OpsError(
      `Not approving ${env}: the smoke test ${smoke.action} is ${smoke.status}${smoke.summary ? ` (${smoke.summary})` : ''}. Fix it and let the pipeline run again.`,
    );
  }
  try {
    await clients.pipeline.codePipeline.send(
      new PutApprovalResultCommand({
        pipelineName,
        stageName: PIPELINE_STAGE_IDS[env],
        actionName: pending.action,
        token: pending.token,
        result: { status: 'Approved', summary: `Approved by ${who} with npm run ops` },
      }),
    );
  } catch (e) {
    throw new OpsError(explainFailure(e, `approving ${pending.action} in pipeline ${pipelineName}`));
  }
  return `Approved ${pending.action}${smoke ? ` (smoke test ${smoke.action}: ${smoke.status})` : ''}`;
}
