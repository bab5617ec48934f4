import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnRule, Duration, Fn, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { PipelineType } from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { PipelineNotificationEvents } from 'aws-cdk-lib/aws-codepipeline';
import { CodeBuildStep, CodePipeline, CodePipelineSource, ManualApprovalStep } from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { parse as parseYaml } from 'yaml';
import { acknowledgeGrantActionGroups, REF } from '../compliance/nag';
import { EnvironmentConfig } from '../config/environment-config';
import { PipelineConfig, pipelineDeployProblems } from '../config/pipeline-config';
import { PROJECT_ROOT } from '../constructs/migration-function';
import { smokeTestRoleName } from '../constructs/smoke-test-access';
import { MigrationStage } from '../../stages/migration-stage';
import { PaymentCutoverStage } from '../../stages/payment-cutover-stage';
import { paymentSmokeRoleName } from '../stacks/payment/payment-operations-stack';
import { denyGrantsExceptForAwsServices } from '../constructs/key-policy';

/** Stage ids per environment; stack names are `<StageId>-<Stack>` (e.g. `Dev-Network`). */
export const STAGE_IDS: Record<EnvironmentConfig['envName'], string> = { dev: 'Dev', staging: 'Staging', prod: 'Prod' };

/** Payment stage ids per environment (`DevPayment-Network`, ...); they deploy in the same wave. */
export const PAYMENT_STAGE_IDS: Record<EnvironmentConfig['envName'], string> = {
  dev: 'DevPayment',
  staging: 'StagingPayment',
  prod: 'ProdPayment',
};

/** The CodeBuild image every step uses: Amazon Linux 2023 standard 5 (Node.js 20/22, Python 3.11). */
const BUILD_IMAGE = codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5;

/** The `runtime-versions` of buildspec.yml, which every CodeBuild step of the pipeline pins. */
export const BUILD_RUNTIMES: Record<string, unknown> = (
  parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, 'buildspec.yml'), 'utf8')) as {
    phases: { install: { 'runtime-versions': Record<string, unknown> } };
  }
).phases.install['runtime-versions'];

export interface PipelineStackProps extends StackProps {
  readonly pipeline: PipelineConfig;
  /** Environments in promotion order: dev, staging, prod. */
  readonly environments: readonly EnvironmentConfig[];
  /**
   * Called with each stage right after the pipeline adds it, which synthesizes it (so its templates
   * are written and final): the app adds its checks there and starts the slow ones early.
   * @default none
   */
  readonly onStageAdded?: (stage: MigrationStage | PaymentCutoverStage) => void;
}

/**
 * The self-mutating delivery pipeline: a push to the branch synthesizes and tests the app, updates
 * the pipeline itself, then deploys MigrationStage to dev (no gate), staging and prod (each behind
 * a manual approval), running the smoke test against every environment before promoting further.
 */
export class PipelineStack extends Stack {
  public readonly codePipeline: CodePipeline;
  public readonly stages: readonly MigrationStage[];
  /** The PaymentCutoverStage of each wave. */
  public readonly paymentStages: readonly PaymentCutoverStage[];
  public readonly notifications: sns.Topic;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { pipeline: config, environments } = props;

    const source = CodePipelineSource.connection(config.repository, config.branch, {
      connectionArn: config.connectionArn,
      triggerOnPush: true,
    });

    // The synth step sees the same configuration the pipeline was deployed with.
    const synthEnv: Record<string, string> = {
      CI: 'true',
      REPOSITORY: config.repository,
      BRANCH: config.branch,
      CONNECTION_ARN: config.connectionArn,
      PIPELINE_REGION: config.region,
      ...(config.account ? { PIPELINE_ACCOUNT: config.account } : {}),
      ...(config.notificationEmail ? { PIPELINE_NOTIFICATION_EMAIL: config.notificationEmail } : {}),
    };
    for (const e of environments) if (e.account) synthEnv[`${e.envName.toUpperCase()}_ACCOUNT`] = e.account;

    const synth = new CodeBuildStep('Synth', {
      input: source,
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: ['npm test', 'npx cdk synth'],
      env: synthEnv,
      primaryOutputDirectory: 'cdk.out',
      // Reports (JUnit from jest) are declared in buildspec.yml and merged here.
      partialBuildSpec: codebuild.BuildSpec.fromObject(
        parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, 'buildspec.yml'), 'utf8')),
      ),
      buildEnvironment: { buildImage: BUILD_IMAGE, computeType: codebuild.ComputeType.MEDIUM },
      // The paths buildspec.yml lists (cfn-guard reports, npm downloads) stay on the build host between
      // runs: no bucket to own, and a miss only costs a cold synth.
      cache: codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
      timeout: Duration.minutes(60),
    });

    const crossAccount = environments.some((e) => !e.account || e.account !== config.account);
    // Payment stages deploy to their own region (and the replica region). CodePipeline needs an
    // artifact bucket per extra region, which it creates in a support stack named after the pipeline
    // account. Without that account the pipeline cannot be deployed anyway (PipelineConfigured rule),
    // so offline synth names placeholder buckets instead of failing.
    const extraRegions = [
      ...new Set(environments.flatMap((e) => [e.payment.region, e.payment.replicaRegion, e.region])),
    ].filter((r) => r !== config.region);
    const placeholderBuckets = config.account
      ? undefined
      : Object.fromEntries(
          extraRegions.map((region) => [
            region,
            s3.Bucket.fromBucketAttributes(this, `UnconfiguredArtifacts-${region}`, {
              bucketName: `pipeline-account-not-configured-${region}`,
              region,
            }),
          ]),
        );
    this.codePipeline = new CodePipeline(this, 'Pipeline', {
      pipelineType: PipelineType.V2,
      selfMutation: true,
      synth,
      crossAccountKeys: crossAccount,
      enableKeyRotation: crossAccount,
      // One CodeBuild project publishes all file assets instead of one project per asset.
      publishAssetsInParallel: false,
      dockerEnabledForSynth: false,
      // Every CodeBuild project (synth, self-mutation, assets, smoke tests) pins the same runtimes.
      codeBuildDefaults: {
        buildEnvironment: { buildImage: BUILD_IMAGE },
        partialBuildSpec: codebuild.BuildSpec.fromObject({
          phases: { install: { 'runtime-versions': BUILD_RUNTIMES } },
        }),
      },
      ...(placeholderBuckets ? { crossRegionReplicationBuckets: placeholderBuckets } : {}),
    });

    const stages: MigrationStage[] = [];
    const paymentStages: PaymentCutoverStage[] = [];
    for (const config of environments) {
      const stage = new MigrationStage(this, STAGE_IDS[config.envName], {
        config,
        env: config.account ? { account: config.account, region: config.region } : { region: config.region },
        ...(this.account ? { smokeTestTrustedAccount: this.account } : {}),
      });
      stages.push(stage);
      const smokeRole = stage.smokeTestAccess?.roleArnOutput;
      const smoke = new CodeBuildStep(`SmokeTest-${config.envName}`, {
        input: source,
        installCommands: ['npm ci --no-audit --no-fund'],
        commands: ['npx tsx scripts/smoke-test/index.ts'],
        envFromCfnOutputs: {
          DATA_BUCKET_NAME: stage.storage.dataBucketNameOutput,
          STATE_MACHINE_ARN: stage.orchestration.stateMachineArnOutput,
          ...(smokeRole ? { SMOKE_ROLE_ARN: smokeRole } : {}),
        },
        env: { SMOKE_TIMEOUT_SECONDS: '1800' },
        // The test acts inside the target account through the role the stage created for it.
        rolePolicyStatements: [
          new iam.PolicyStatement({
            actions: ['sts:AssumeRole'],
            resources: [
              Stack.of(stage.orchestration).formatArn({
                service: 'iam',
                region: '',
                account: config.account ?? this.account,
                resource: 'role',
                resourceName: smokeTestRoleName(config.envName),
              }),
            ],
          }),
        ],
        buildEnvironment: { buildImage: BUILD_IMAGE },
        timeout: Duration.minutes(45),
      });
      // One wave per environment: the migration and the payment stage deploy side by side, each
      // followed by its own smoke test; staging and prod wait for an approval first.
      const wave = this.codePipeline.addWave(STAGE_IDS[config.envName], {
        pre:
          config.envName === 'dev'
            ? []
            : [new ManualApprovalStep(`Promote-to-${config.envName}`, { comment: `Deploy to ${config.envName}?` })],
      });
      wave.addStage(stage, { post: [smoke] });
      props.onStageAdded?.(stage);

      const payment = new PaymentCutoverStage(this, PAYMENT_STAGE_IDS[config.envName], {
        config,
        ...(config.account ? { account: config.account } : {}),
        ...(this.account ? { smokeTestTrustedAccount: this.account } : {}),
      });
      paymentStages.push(payment);
      wave.addStage(payment, { post: [this.paymentSmokeStep(source, config, payment)] });
      props.onStageAdded?.(payment);
    }
    this.paymentStages = paymentStages;
    this.stages = stages;

    this.codePipeline.buildPipeline();
    grantCodeConnectionsUse(this.codePipeline, config.connectionArn);
    for (const support of Object.values(this.codePipeline.pipeline.crossRegionSupport)) {
      Validations.of(support.stack).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'CodePipeline’s cross-region artifact bucket holds build artifacts only, KMS-encrypted; every access is by the pipeline roles and recorded by CloudTrail.',
      });
    }

    const key = new kms.Key(this, 'NotificationsKey', {
      description: 'Encrypts pipeline notifications',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    denyGrantsExceptForAwsServices(key);
    key.grant(new iam.ServicePrincipal('codestar-notifications.amazonaws.com'), 'kms:GenerateDataKey*', 'kms:Decrypt');
    this.notifications = new sns.Topic(this, 'PipelineNotifications', {
      displayName: 'Migration pipeline: failures and pending approvals',
      masterKey: key,
      enforceSSL: true,
    });
    if (config.notificationEmail) {
      this.notifications.addSubscription(new subscriptions.EmailSubscription(config.notificationEmail));
    }
    this.codePipeline.pipeline.notifyOn('Notifications', this.notifications, {
      events: [
        PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
        PipelineNotificationEvents.ACTION_EXECUTION_FAILED,
        PipelineNotificationEvents.MANUAL_APPROVAL_NEEDED,
      ],
    });

    // Synth works with placeholders; deploying them must fail instead of landing in whatever account
    // the caller's credentials point at, with a connection that does not exist.
    const problems = pipelineDeployProblems(config);
    if (problems.length > 0) {
      new CfnRule(this, 'PipelineConfigured', {
        assertions: [
          {
            assert: Fn.conditionEquals('pipeline-configured', 'pipeline-not-configured'),
            assertDescription: problems.join(' '),
          },
        ],
      });
    }

    acknowledgePipelineFindings(this);
  }

  /**
   * The payment smoke test (scripts/payment-smoke): health through both load balancers, the forward
   * DMS task exists, a smoke/ object replicates within the replication time. It changes no weights
   * and starts no task. It runs inside the target account through the stage's smoke role.
   */
  private paymentSmokeStep(
    source: CodePipelineSource,
    config: EnvironmentConfig,
    payment: PaymentCutoverStage,
  ): CodeBuildStep {
    return new CodeBuildStep(`PaymentSmokeTest-${config.envName}`, {
      input: source,
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: ['npx tsx scripts/payment-smoke/index.ts'],
      envFromCfnOutputs: payment.operations.smokeOutputs,
      rolePolicyStatements: [
        new iam.PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: [
            Stack.of(payment.operations).formatArn({
              service: 'iam',
              region: '',
              account: config.account ?? this.account,
              resource: 'role',
              resourceName: paymentSmokeRoleName(payment.namePrefix),
            }),
          ],
        }),
      ],
      buildEnvironment: { buildImage: BUILD_IMAGE },
      timeout: Duration.minutes(30),
    });
  }
}

/**
 * aws-cdk-lib grants the source action `codestar-connections:UseConnection` only. Connections
 * created since the 2024 rename have `arn:aws:codeconnections:` ARNs and are authorized under the
 * `codeconnections` prefix; grant both on the one connection so either kind of ARN works.
 */
export function grantCodeConnectionsUse(pipeline: CodePipeline, connectionArn: string): void {
  // The source action's role is created when the action binds; it lives under the Source stage.
  const sourceStage = pipeline.pipeline.node.tryFindChild('Source');
  const roles = sourceStage?.node.findAll().filter((c): c is iam.Role => c instanceof iam.Role) ?? [];
  if (roles.length !== 1) throw new Error(`Expected one source action role, found ${roles.length}`);
  roles[0]!.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['codeconnections:UseConnection'],
      resources: [connectionArn],
    }),
  );
}

/**
 * Findings on resources aws-cdk-lib/pipelines generates, each with why it stands. They are scoped to
 * this stack's pipeline, not to the stages it deploys (those carry their own checks).
 */
function acknowledgePipelineFindings(stack: PipelineStack): void {
  acknowledgeGrantActionGroups(
    stack.codePipeline,
    'the pipeline artifact bucket and artifact key that aws-cdk-lib/pipelines grants its own roles',
  );
  Validations.of(stack.codePipeline).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CodeBuild report groups, log streams and the cross-account asset/deploy roles are named by the pipeline framework at run time.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${REF}/*]`,
      reason: 'Objects of the pipeline artifact bucket, which the framework reads and writes by execution id.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:${REF}:logs:${REF}:log-group:/aws/codebuild/${REF}]`,
      reason: 'CodeBuild log groups are named after the generated project names.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:${REF}:logs:${REF}:log-group:/aws/codebuild/${REF}:*]`,
      reason: 'Log streams of the CodeBuild projects above.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:${REF}:codebuild:${REF}:report-group/${REF}-*]`,
      reason: 'CodeBuild creates the report groups of each project on the first run (jest JUnit report).',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:${REF}:iam::${REF}:role/cdk-hnb659fds-*]`,
      reason: 'The bootstrap roles of the target accounts that CDK Pipelines assumes to publish assets and deploy.',
    },
    {
      id: 'AwsSolutions-S1',
      reason:
        'The artifact bucket holds build inputs and outputs only; every access is by the pipeline roles and recorded by CloudTrail.',
    },
    {
      id: 'AwsSolutions-CB4',
      reason:
        'The CodeBuild projects write only to the pipeline artifact bucket, which is KMS-encrypted with the artifact key.',
    },
  );
}
