/**
 * Finds a deployed stage's resources from what its stacks publish, never from names built here:
 * - `<Stage>-Dms` output `ReplicationTaskArnParameterName` → that SSM parameter → the current task ARN
 *   (it follows a replaced task, ADR 0009);
 * - `<Stage>-Orchestration` output `StateMachineArn`;
 * - the pipeline stack's `AWS::CodePipeline::Pipeline` resource → the pipeline name.
 * Stack names are the CDK Pipelines ones: `<StageId>-<Stack>` (STAGE_IDS), `Sandbox-<name>-<Stack>`.
 */
import { DescribeStackResourcesCommand, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { EnvName } from '../../lib/config/environment-config';
import type { Target } from './args';
import type { OpsClients } from './clients';
import { explainFailure, isMissingStack, OpsError } from './errors';

/** Stage ids of the pipeline (lib/pipeline/pipeline-stack.ts STAGE_IDS; kept in step by a test). */
export const PIPELINE_STAGE_IDS: Record<EnvName, string> = { dev: 'Dev', staging: 'Staging', prod: 'Prod' };
/** Construct id (and stack name) of the pipeline stack (lib/app-builder.ts). */
export const PIPELINE_STACK_NAME = 'Pipeline';

export function stageId(target: Target): string {
  return target.sandbox !== undefined ? `Sandbox-${target.sandbox}` : PIPELINE_STAGE_IDS[target.env];
}

export function stackName(target: Target, stack: 'Dms' | 'Orchestration'): string {
  return `${stageId(target)}-${stack}`;
}

export interface StageResources {
  readonly replicationTaskArn: string;
  readonly replicationTaskArnParameter: string;
  readonly stateMachineArn: string;
}

export async function stackOutputs(
  clients: OpsClients,
  name: string,
  region: string,
  target: Target,
): Promise<Output[]> {
  try {
    const out = await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: name }));
    return out.Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    if (isMissingStack(e)) {
      throw new OpsError(
        `Stack ${name} is not deployed in ${region}: is the ${target.env} stage deployed${
          target.sandbox ? ` (sandbox ${target.sandbox})` : ''
        }, and are your credentials for its account? Deploy it first (README: Deploy), or pass --region.`,
      );
    }
    throw new OpsError(explainFailure(e, `reading stack ${name} in ${region}`));
  }
}

function output(outputs: Output[], key: string, stack: string): string {
  const value = outputs.find((o) => o.OutputKey === key)?.OutputValue;
  if (!value) {
    throw new OpsError(
      `Stack ${stack} has no output ${key}: it was deployed by an older version; deploy the stage again.`,
    );
  }
  return value;
}

export async function locateStage(clients: OpsClients, target: Target, region: string): Promise<StageResources> {
  const dmsStack = stackName(target, 'Dms');
  const orchestrationStack = stackName(target, 'Orchestration');
  const [dms, orchestration] = await Promise.all([
    stackOutputs(clients, dmsStack, region, target),
    stackOutputs(clients, orchestrationStack, region, target),
  ]);
  const parameter = output(dms, 'ReplicationTaskArnParameterName', dmsStack);
  let taskArn: string | undefined;
  try {
    const out = await clients.ssm.send(new GetParameterCommand({ Name: parameter }));
    taskArn = out.Parameter?.Value;
  } catch (e) {
    throw new OpsError(explainFailure(e, `reading SSM parameter ${parameter}`));
  }
  if (!taskArn) throw new OpsError(`SSM parameter ${parameter} holds no task ARN; deploy the ${dmsStack} stack again.`);
  return {
    replicationTaskArn: taskArn,
    replicationTaskArnParameter: parameter,
    stateMachineArn: output(orchestration, 'StateMachineArn', orchestrationStack),
  };
}

/** The pipeline's name, from the pipeline stack's resources. */
export async function locatePipeline(clients: OpsClients, pipelineRegion: string): Promise<string> {
  try {
    const out = await clients.pipeline.cloudFormation.send(
      new DescribeStackResourcesCommand({ StackName: PIPELINE_STACK_NAME }),
    );
    const pipeline = out.StackResources?.find((r) => r.ResourceType === 'AWS::CodePipeline::Pipeline');
    if (!pipeline?.PhysicalResourceId) throw new OpsError(`Stack ${PIPELINE_STACK_NAME} has no pipeline resource.`);
    return pipeline.PhysicalResourceId;
  } catch (e) {
    if (isMissingStack(e)) {
      throw new OpsError(
        `Stack ${PIPELINE_STACK_NAME} is not deployed in ${pipelineRegion}: deploy the pipeline first (README), use credentials for the pipeline (tooling) account, or set PIPELINE_REGION.`,
      );
    }
    throw new OpsError(explainFailure(e, `reading stack ${PIPELINE_STACK_NAME} in ${pipelineRegion}`));
  }
}
