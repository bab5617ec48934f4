import { App, AppProps } from 'aws-cdk-lib';
import { addControlTowerGuard } from './compliance/cfn-guard';
import { EnvName, ENV_NAMES, EnvironmentConfig } from './config/environment-config';
import { loadEnvironmentConfig, validateSandboxName } from './config/load';
import { MigrationStage } from '../stages/migration-stage';

/** Stage ids per environment; stack names are `<StageId>-<Stack>` (e.g. `Dev-Network`). */
export const STAGE_IDS: Record<EnvName, string> = { dev: 'Dev', staging: 'Staging', prod: 'Prod' };

function str(v: unknown): string | undefined {
  return v === undefined || v === null || String(v).trim() === '' ? undefined : String(v).trim();
}

/** Stage environment: the configured account when known; otherwise only the region (synth-only). */
export function stageEnv(config: EnvironmentConfig, fallbackAccount?: string) {
  const account = config.account ?? fallbackAccount;
  return account ? { account, region: config.region } : { region: config.region };
}

/**
 * Builds the app from context:
 * - `-c sandbox=<name> [-c env=dev]`: one MigrationStage named `Sandbox-<name>` with that
 *   environment's config, for a deploy from a laptop into the credentials' own account;
 * - otherwise the dev, staging and prod stages.
 */
export function buildApp(props: AppProps = {}): App {
  const app = new App(props);
  const ctx = (key: string) => app.node.tryGetContext(key);
  const guard = str(ctx('cfnGuard')) !== 'false';

  const sandbox = str(ctx('sandbox'));
  if (sandbox) {
    const name = validateSandboxName(sandbox);
    const config = loadEnvironmentConfig(str(ctx('env')) ?? 'dev', ctx);
    const stage = new MigrationStage(app, `Sandbox-${name}`, {
      config,
      env: stageEnv(config, process.env.CDK_DEFAULT_ACCOUNT),
      ...(str(ctx('dataSyncActivationAttempt')) ? { dataSyncActivationAttempt: str(ctx('dataSyncActivationAttempt')) } : {}),
    });
    if (guard) addControlTowerGuard(stage);
    return app;
  }

  for (const envName of ENV_NAMES) {
    const config = loadEnvironmentConfig(envName, ctx);
    const stage = new MigrationStage(app, STAGE_IDS[envName], { config, env: stageEnv(config) });
    if (guard) addControlTowerGuard(stage);
  }
  return app;
}
