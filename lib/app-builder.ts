import { App, AppProps, Validations } from 'aws-cdk-lib';
import { addControlTowerGuard } from './compliance/cfn-guard';
import { StageAwsSolutionsChecks } from './compliance/nag';
import { addCachedTemplateValidation } from './compliance/template-validation-cache';
import { ENV_NAMES } from './config/environment-config';
import { ConfigError, loadEnvironmentConfig, str, validateSandboxName } from './config/load';
import { loadPipelineConfig } from './config/pipeline-config';
import { PipelineStack } from './pipeline/pipeline-stack';
import { MigrationStage } from '../stages/migration-stage';
import { PaymentCutoverStage } from '../stages/payment-cutover-stage';
import { paymentGuardAcknowledgements } from './compliance/payment-guard';

/**
 * Builds the app from context:
 * - default: the `Pipeline` stack, which holds the dev, staging and prod MigrationStages it deploys;
 * - `-c sandbox=<name> [-c env=dev]`: one MigrationStage `Sandbox-<name>` with that environment's
 *   config, for a deploy from a laptop into the account of the current credentials;
 * - `-c sandbox=<name> -c stage=payment`: the PaymentCutoverStage `SandboxPayment-<name>` instead,
 *   its physical names prefixed `payment-<env>-<name>`.
 * `-c cfnGuard=false` skips the Control Tower rules (for quick local iterations only).
 */
export function buildApp(props: AppProps = {}): App {
  const app = new App(props);
  addCachedTemplateValidation(app, props.builtinCloudFormationValidation !== false);
  const ctx = (key: string) => app.node.tryGetContext(key);
  const guard = str(ctx('cfnGuard')) !== 'false';

  // Read from the committed config since the pipeline and a laptop must synthesize the same stage.
  if (str(ctx('dataSyncActivationAttempt')) !== undefined) {
    throw new ConfigError([
      'dataSyncActivationAttempt: no longer read from the command line or cdk.json; set dataSync.activationAttempt for the environment in lib/config/environments.ts and deploy',
    ]);
  }
  const sandbox = str(ctx('sandbox'));
  if (sandbox) {
    const name = validateSandboxName(sandbox);
    const config = loadEnvironmentConfig(str(ctx('env')) ?? 'dev', ctx);
    const account = config.account ?? process.env.CDK_DEFAULT_ACCOUNT;
    const which = str(ctx('stage')) ?? 'migration';
    if (which === 'payment') {
      const payment = new PaymentCutoverStage(app, `SandboxPayment-${name}`, {
        config,
        namePrefix: `payment-${config.envName}-${name}`,
        ...(account ? { account } : {}),
      });
      if (guard) addControlTowerGuard(payment, paymentGuardAcknowledgements(payment.config));
      return app;
    }
    if (which !== 'migration') {
      throw new ConfigError([`stage: expected "migration" or "payment", got ${JSON.stringify(which)}`]);
    }
    const stage = new MigrationStage(app, `Sandbox-${name}`, {
      config,
      env: account ? { account, region: config.region } : { region: config.region },
    });
    if (guard) addControlTowerGuard(stage);
    return app;
  }

  const pipelineConfig = loadPipelineConfig(ctx);
  new PipelineStack(app, 'Pipeline', {
    pipeline: pipelineConfig,
    environments: ENV_NAMES.map((name) => loadEnvironmentConfig(name, ctx)),
    env: pipelineConfig.account
      ? { account: pipelineConfig.account, region: pipelineConfig.region }
      : { region: pipelineConfig.region },
    description: 'Self-mutating delivery pipeline of the migration platform',
    // Each stage is synthesized as the pipeline adds it, so its Control Tower runs start there, on
    // another core while the next stage is built, rather than all at the end.
    onStageAdded: guard
      ? (stage) =>
          addControlTowerGuard(
            stage,
            stage instanceof PaymentCutoverStage ? paymentGuardAcknowledgements(stage.config) : undefined,
            { startRuns: true },
          )
      : undefined,
  });
  // The pipeline stack itself is checked at app level; each stage carries its own checks.
  Validations.of(app).addPlugins(new StageAwsSolutionsChecks(app));
  return app;
}
