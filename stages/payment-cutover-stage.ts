import { CfnRule, Fn, Stack, Stage, StageProps, Tags, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { StageAwsSolutionsChecks, StageNist80053R5Checks, StagePciDss321Checks } from '../lib/compliance/nag';
import { enforceEncryptionAtRest } from '../lib/compliance/encryption-aspect';
import { acknowledgePaymentStageFindings } from '../lib/compliance/payment-acknowledgements';
import { EnvName, EnvironmentConfig } from '../lib/config/environment-config';
import { PaymentConfig } from '../lib/config/payment-config';
import { ManagedReplicationTask } from '../lib/constructs/managed-replication-task';
import { LogReplication } from '../lib/constructs/payment/log-replication';
import { PaymentEnvironment } from '../lib/constructs/payment/payment-environment';
import { PaymentCutoverStack } from '../lib/stacks/payment/payment-cutover-stack';
import { PaymentDmsStack } from '../lib/stacks/payment/payment-dms-stack';
import { PaymentEnvironmentStack } from '../lib/stacks/payment/payment-environment-stack';
import { PaymentMonitoringStack } from '../lib/stacks/payment/payment-monitoring-stack';
import { PaymentNetworkStack } from '../lib/stacks/payment/payment-network-stack';
import { PaymentOperationsStack } from '../lib/stacks/payment/payment-operations-stack';
import { PaymentReplicaStack, replicaNames } from '../lib/stacks/payment/payment-replica-stack';
import { paymentRemoval } from '../lib/stacks/payment/payment-stack-props';

export interface PaymentCutoverStageProps extends Omit<StageProps, 'env'> {
  readonly config: EnvironmentConfig;
  /** Account to deploy into; unset synthesizes offline and refuses to deploy. @default none */
  readonly account?: string;
  /**
   * Prefix of every physical name; carries the environment (and the sandbox name for a laptop deploy).
   * @default `payment-<env>`
   */
  readonly namePrefix?: string;
  /** Account of the pipeline whose smoke test may assume a role in this stage. @default no role */
  readonly smokeTestTrustedAccount?: string;
  /** Run the cdk-nag packs inside the stage (tests that inspect one template may switch it off). @default true */
  readonly nagChecks?: boolean;
}

/** The cdk-nag packs of the payment stage, by the names the compliance report prints. */
export const PAYMENT_NAG_PACKS = [
  'cdk-nag AwsSolutions',
  'cdk-nag PCI DSS 3.2.1',
  'cdk-nag NIST 800-53 rev 5',
] as const;

/**
 * The zero-downtime cutover of the payment service in one environment: a shared network, source and
 * target environments built by one construct, DMS full load + CDC from source to target (and a stopped
 * reverse task for failback), the source's transaction logs replicated to a bucket in a second region,
 * alarms and a dashboard over both sides, and the weighted service records with the cutover workflow
 * that owns them (docs/payment-cutover.md, docs/cutover-workflow.md).
 */
export class PaymentCutoverStage extends Stage {
  public readonly envName: EnvName;
  public readonly config: PaymentConfig;
  public readonly namePrefix: string;
  public readonly network: PaymentNetworkStack;
  public readonly replica: PaymentReplicaStack;
  public readonly sourceStack: PaymentEnvironmentStack;
  public readonly targetStack: PaymentEnvironmentStack;
  public readonly source: PaymentEnvironment;
  public readonly target: PaymentEnvironment;
  public readonly dms: PaymentDmsStack;
  public readonly operations: PaymentOperationsStack;
  public readonly monitoring: PaymentMonitoringStack;
  public readonly cutover: PaymentCutoverStack;
  /** The forward (source → target) task. */
  public readonly replicationTask: ManagedReplicationTask;
  public readonly replicationInstanceIdentifier: string;
  public readonly logReplication: {
    sourceBucket: LogReplication['sourceBucket'];
    destinationBucketName: string;
    ruleId: string;
  };
  /** Checks the compliance report lists for this stage. */
  public readonly complianceChecks: readonly string[] = PAYMENT_NAG_PACKS;

  constructor(scope: Construct, id: string, props: PaymentCutoverStageProps) {
    const payment = props.config.payment;
    super(scope, id, {
      ...props,
      env: props.account ? { account: props.account, region: payment.region } : { region: payment.region },
    });
    const envName = props.config.envName;
    const namePrefix = props.namePrefix ?? `payment-${envName}`;
    this.envName = envName;
    this.config = payment;
    this.namePrefix = namePrefix;
    const common = { envName, config: payment, namePrefix };
    const replicaEnv = props.account
      ? { account: props.account, region: payment.replicaRegion }
      : { region: payment.replicaRegion };

    this.network = new PaymentNetworkStack(this, 'Network', {
      ...common,
      description: `Payment ${envName}: VPC, security groups, keys`,
    });
    this.replica = new PaymentReplicaStack(this, 'Replica', {
      ...common,
      env: replicaEnv,
      description: `Payment ${envName}: replica of the source transaction logs (${payment.replicaRegion})`,
    });
    const environmentProps = {
      ...common,
      vpc: this.network.vpc,
      rotationSecurityGroup: this.network.rotationSecurityGroup,
      dataKey: this.network.dataKey,
      logKey: this.network.logKey,
    };
    this.sourceStack = new PaymentEnvironmentStack(this, 'Source', {
      ...environmentProps,
      role: 'source',
      securityGroups: this.network.securityGroups.source,
      description: `Payment ${envName}: source environment (database, service, transaction logs)`,
    });
    // The replication rule names the replica bucket, which must exist (and be versioned) first.
    this.sourceStack.addStackDependency(
      this.replica,
      'S3 checks the replication destination bucket when the rule is put',
    );
    this.targetStack = new PaymentEnvironmentStack(this, 'Target', {
      ...environmentProps,
      role: 'target',
      securityGroups: this.network.securityGroups.target,
      description: `Payment ${envName}: target environment (database, service, transaction logs)`,
    });
    // The target's tasks read the database pointer, which the source stack creates.
    this.targetStack.addStackDependency(
      this.sourceStack,
      'The target service reads the database pointer the source creates',
    );
    this.source = this.sourceStack.paymentEnvironment;
    this.target = this.targetStack.paymentEnvironment;
    this.dms = new PaymentDmsStack(this, 'Dms', {
      ...common,
      vpc: this.network.vpc,
      dmsSecurityGroup: this.network.dmsSecurityGroup,
      source: this.source,
      target: this.target,
      secretsKey: this.network.dataKey,
      storageKey: this.network.dataKey,
      logKey: this.network.logKey,
      accountRolesReady: this.network.dmsAccountRoles.ready,
      description: `Payment ${envName}: DMS full load + CDC from source to target`,
    });
    this.replicationTask = this.dms.replicationTask;
    this.replicationInstanceIdentifier = this.dms.replicationInstanceIdentifier;
    const replication = this.sourceStack.logReplication!;
    this.logReplication = {
      sourceBucket: replication.sourceBucket,
      destinationBucketName: replication.destinationBucketName,
      ruleId: replication.ruleId,
    };
    this.operations = new PaymentOperationsStack(this, 'Operations', {
      ...common,
      source: this.source,
      target: this.target,
      dms: this.dms,
      logReplication: replication,
      logKey: this.network.logKey,
      replicaKeyAlias: replicaNames(namePrefix).keyAlias,
      ...(props.smokeTestTrustedAccount ? { smokeTestTrustedAccount: props.smokeTestTrustedAccount } : {}),
      description: `Payment ${envName}: runbook outputs and the smoke-test role`,
    });

    this.monitoring = new PaymentMonitoringStack(this, 'Monitoring', {
      envName,
      namePrefix,
      source: this.source,
      target: this.target,
      replicationTask: this.replicationTask,
      replicationInstanceIdentifier: this.replicationInstanceIdentifier,
      logReplication: this.logReplication,
      ...(props.config.alarmEmail ? { alarmEmail: props.config.alarmEmail } : {}),
      keyRemovalPolicy: paymentRemoval(payment),
      description: `Payment ${envName}: alarms and dashboard of both environments and the replication`,
    });
    this.cutover = new PaymentCutoverStack(this, 'Cutover', {
      ...common,
      vpc: this.network.vpc,
      source: this.source,
      target: this.target,
      dms: this.dms,
      fenceSecurityGroup: this.network.fenceSecurityGroup,
      appAlarms: this.monitoring.appAlarms,
      notificationTopic: this.monitoring.alarmTopic,
      logKey: this.network.logKey,
      description: `Payment ${envName}: weighted service records and the cutover workflow`,
    });

    Tags.of(this).add('Environment', envName);
    Tags.of(this).add('MigrationPhase', payment.migrationPhase);
    Tags.of(this).add('CostCenter', payment.costCenter);

    // Synth works without an account; a deploy of such a template must fail instead of landing in
    // whatever account the caller's credentials point at.
    if (!props.account) {
      for (const child of this.node.children) {
        if (child instanceof Stack) {
          new CfnRule(child, 'AccountConfigured', {
            assertions: [
              {
                assert: Fn.conditionEquals('account-configured', 'account-missing'),
                assertDescription: `No AWS account is configured for ${envName}: set -c ${envName}Account=<id> or ${envName.toUpperCase()}_ACCOUNT and synthesize again.`,
              },
            ],
          });
        }
      }
    }

    // Encryption at rest is checked at synth over the whole stage, and the stores that hold payment data
    // (databases, transaction logs and their replica, DMS storage and secrets) must use the stage's keys.
    // Access-log buckets stay SSE-S3: S3 server access logging and ALB access logs accept nothing else.
    enforceEncryptionAtRest(this);
    for (const store of [
      this.source.database,
      this.source.logBucket,
      this.source.dmsSecret,
      this.target.database,
      this.target.logBucket,
      this.target.dmsSecret,
      this.dms.replicationInstance,
      this.replica.replicaBucket,
    ]) {
      enforceEncryptionAtRest(store, { requireCustomerManagedKeys: true });
    }
    acknowledgePaymentStageFindings(this);
    if (props.nagChecks ?? true) {
      Validations.of(this).addPlugins(
        new StageAwsSolutionsChecks(this),
        new StagePciDss321Checks(this),
        new StageNist80053R5Checks(this),
      );
    }
  }
}
