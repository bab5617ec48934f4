/**
 * The operator CLI, as a function of its arguments and edges so tests can run it with mocked
 * clients: resolves the stage from the committed config, finds its resources from stack outputs and
 * SSM, and runs one command. Returns the exit code: 0 done, 1 failed, 2 bad usage.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { loadPipelineConfig } from '../../lib/config/pipeline-config';
import { parseArgs, USAGE, UsageError, type Command } from './args';
import { approve } from './approve';
import type { OpsClients } from './clients';
import { carryOut, describeTask, planDms } from './dms';
import { explainFailure, OpsError } from './errors';
import { locatePipeline, locateStage, stageId } from './locate';
import { gatherStatus, formatStatus, section } from './status';

export interface CliDeps {
  readonly clients: (region: string, pipelineRegion: string) => OpsClients;
  /** Asks the operator to confirm a prod change; resolves true only on an explicit yes. */
  readonly confirm: (question: string) => Promise<boolean>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
}

export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  let command: Command;
  try {
    command = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      deps.err(e.message);
      return 2;
    }
    throw e;
  }
  if (command.kind === 'help') {
    deps.out(USAGE);
    return 0;
  }
  try {
    deps.out(await run(command, deps));
    return 0;
  } catch (e) {
    deps.err(e instanceof OpsError ? e.message : explainFailure(e, `running ${command.kind}`));
    return 1;
  }
}

async function run(command: Exclude<Command, { kind: 'help' }>, deps: CliDeps): Promise<string> {
  const config = loadEnvironmentConfig(command.env, () => undefined, deps.env);
  const region = command.region ?? config.region;
  const pipelineRegion = loadPipelineConfig(() => undefined, deps.env).region;
  const clients = deps.clients(region, pipelineRegion);
  const stage = stageId(command);

  // Fails early, with one clear message, when there are no credentials or they are for another account.
  const identity = await clients.sts.send(new GetCallerIdentityCommand({})).catch((e: unknown) => {
    throw new OpsError(explainFailure(e, `checking your AWS credentials for ${command.env}`));
  });
  if (config.account && identity.Account && identity.Account !== config.account && command.kind !== 'approve') {
    throw new OpsError(
      `Your credentials are for account ${identity.Account}, but ${command.env} is in ${config.account}: switch profile (AWS_PROFILE) and retry.`,
    );
  }
  const who = identity.Arn ?? 'unknown caller';

  switch (command.kind) {
    case 'status': {
      const resources = await section('locating the stage', () => locateStage(clients, command, region));
      const pipelineName = command.sandbox
        ? ({ ok: false, error: 'a sandbox stage is not deployed by the pipeline' } as const)
        : await section('locating the pipeline', () => locatePipeline(clients, pipelineRegion));
      const report = await gatherStatus(clients, {
        env: command.env,
        stage,
        region,
        resources,
        pipelineName,
        now: deps.now(),
      });
      return formatStatus(report, config.dms.cdcLatencyThresholdSeconds);
    }
    case 'dms': {
      const { replicationTaskArn } = await locateStage(clients, command, region);
      const task = await describeTask(clients, replicationTaskArn);
      const plan = planDms(command.verb, task.Status ?? 'unknown');
      if (plan.call === 'none') throw new OpsError(`Not changing ${replicationTaskArn}: ${plan.reason}.`);
      await confirmProd(command, deps, `${command.verb} DMS task ${replicationTaskArn} in ${stage} (${plan.summary})`);
      return `${stage}: ${await carryOut(clients, replicationTaskArn, plan)}. Follow it with: npm run ops -- status --env ${command.env}`;
    }
    case 'approve': {
      await confirmProd(command, deps, `approve the deployment to ${command.env}`);
      const pipelineName = await locatePipeline(clients, pipelineRegion);
      return approve(clients, pipelineName, command.env, who);
    }
  }
}

async function confirmProd(
  command: { env: string; yesIMeanProd: boolean },
  deps: CliDeps,
  what: string,
): Promise<void> {
  if (command.env !== 'prod' || command.yesIMeanProd) return;
  if (!(await deps.confirm(`You are about to ${what}. Type 'prod' to go on: `))) {
    throw new OpsError(
      `Not confirmed: nothing changed. To ${what}, answer 'prod' at the prompt or pass --yes-i-mean-prod.`,
    );
  }
}
