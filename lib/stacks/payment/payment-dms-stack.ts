import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IDependable } from 'constructs';
import { REF } from '../../compliance/nag';
import { ManagedReplicationTask } from '../../constructs/managed-replication-task';
import { privateReplicationInstance } from '../../constructs/replication-instance';
import { PaymentEnvironment } from '../../constructs/payment/payment-environment';
import { buildPaymentTableMappings, buildPaymentTaskSettings } from '../../dms/payment-task-definition';
import { logRetention } from '../migration-stack-props';
import { PaymentStackProps, paymentRemoval } from './payment-stack-props';

export interface PaymentDmsStackProps extends PaymentStackProps {
  readonly vpc: ec2.IVpc;
  readonly dmsSecurityGroup: ec2.ISecurityGroup;
  readonly source: PaymentEnvironment;
  readonly target: PaymentEnvironment;
  /** Encrypts both DMS user secrets (NetworkStack's data key); DMS decrypts through Secrets Manager. */
  readonly secretsKey: kms.IKey;
  /** Encrypts the replication instance storage. */
  readonly storageKey: kms.IKey;
  /** Encrypts the task log group. */
  readonly logKey: kms.IKey;
  /** NetworkStack's `DmsAccountRoles.ready`: the account-wide DMS roles exist before the subnet group. */
  readonly accountRolesReady: IDependable[];
}

/**
 * Full load + CDC of the allowlisted payment schemas from the source PostgreSQL to the target. Both
 * endpoints authenticate through the environments' DMS user secrets and an access role, so no
 * password reaches a template and a rotation needs no endpoint change. The task is owned by
 * `ManagedReplicationTask`, so a settings change of a running task never fails a deploy; it is
 * created `ready` and started by an operator (runbook).
 */
export class PaymentDmsStack extends Stack {
  public readonly replicationInstance: dms.CfnReplicationInstance;
  /** Name of the replication instance, the `ReplicationInstanceIdentifier` dimension of DMS metrics. */
  public readonly replicationInstanceIdentifier: string;
  public readonly sourceEndpoint: dms.CfnEndpoint;
  public readonly targetEndpoint: dms.CfnEndpoint;
  /** The forward (source → target) task. */
  public readonly replicationTask: ManagedReplicationTask;
  /**
   * The reverse (target → source) CDC-only task: created `ready` with the stage and started by the cutover
   * workflow at the write flip, so a rollback after the flip carries every payment written to the target.
   */
  public readonly reverseTask: ManagedReplicationTask;
  /** The target database read as a DMS source (reverse task). */
  public readonly reverseSourceEndpoint: dms.CfnEndpoint;
  /** The source database written as a DMS target (reverse task). */
  public readonly reverseTargetEndpoint: dms.CfnEndpoint;
  public readonly secretsAccessRole: iam.Role;
  /** The group DMS writes task logs to (`dms-tasks-<instance>`), created here for retention and KMS. */
  public readonly taskLogGroup: logs.LogGroup;
  public readonly replicationTaskArnOutput: CfnOutput;

  constructor(scope: Construct, id: string, props: PaymentDmsStackProps) {
    super(scope, id, props);
    const { config, vpc } = props;
    const removalPolicy = paymentRemoval(config);

    this.replicationInstanceIdentifier = `${props.namePrefix}-replication`;
    this.taskLogGroup = new logs.LogGroup(this, 'TaskLogs', {
      logGroupName: `dms-tasks-${this.replicationInstanceIdentifier}`,
      encryptionKey: props.logKey,
      retention: logRetention(config.logRetentionDays),
      removalPolicy,
    });
    // PostgreSQL 17 sources need DMS 3.6.1 or later; the default engine DMS picks today is newer.
    this.replicationInstance = privateReplicationInstance(this, {
      identifier: this.replicationInstanceIdentifier,
      sizing: config.dms,
      storageKey: props.storageKey,
      securityGroup: props.dmsSecurityGroup,
      vpc,
      subnetGroupDescription: `${props.namePrefix}: DMS subnets`,
      accountRolesReady: props.accountRolesReady,
    });
    this.replicationInstance.node.addDependency(this.taskLogGroup);

    // DMS assumes this role to read the two DMS user secrets at connect time.
    this.secretsAccessRole = new iam.Role(this, 'SecretsAccessRole', {
      assumedBy: new iam.ServicePrincipal(`dms.${this.region}.amazonaws.com`),
      description: `${props.namePrefix}: DMS reads the source and target DMS user secrets`,
    });
    // Statements on the role rather than Secret.grantRead, which could add this role to the key
    // policy in NetworkStack and make that stack depend on this one.
    this.secretsAccessRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDmsUserSecrets',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [props.source.dmsSecret.secretArn, props.target.dmsSecret.secretArn],
      }),
    );
    this.secretsAccessRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptSecretsViaSecretsManager',
        actions: ['kms:Decrypt'],
        resources: [props.secretsKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
      }),
    );

    const databaseName = config.database.databaseName;
    const sourceSettings = (environment: PaymentEnvironment): dms.CfnEndpoint.PostgreSqlSettingsProperty => ({
      secretsManagerSecretId: environment.dmsSecret.secretArn,
      secretsManagerAccessRoleArn: this.secretsAccessRole.roleArn,
      // A heartbeat keeps the replication slot's confirmed position moving while the database is idle,
      // so WAL does not pile up on it.
      heartbeatEnable: true,
      heartbeatFrequency: 5,
      // Schema changes are applied to both sides with native tools; DMS installs no DDL triggers.
      captureDdls: false,
    });
    const targetSettings = (environment: PaymentEnvironment): dms.CfnEndpoint.PostgreSqlSettingsProperty => ({
      secretsManagerSecretId: environment.dmsSecret.secretArn,
      secretsManagerAccessRoleArn: this.secretsAccessRole.roleArn,
    });
    const endpoint = (id: string, endpointType: 'source' | 'target', environment: PaymentEnvironment) =>
      new dms.CfnEndpoint(this, id, {
        endpointType,
        engineName: 'postgres',
        databaseName,
        sslMode: 'require',
        postgreSqlSettings: endpointType === 'source' ? sourceSettings(environment) : targetSettings(environment),
      });
    this.sourceEndpoint = endpoint('SourceEndpoint', 'source', props.source);
    this.targetEndpoint = endpoint('TargetEndpoint', 'target', props.target);
    this.reverseSourceEndpoint = endpoint('ReverseSourceEndpoint', 'source', props.target);
    this.reverseTargetEndpoint = endpoint('ReverseTargetEndpoint', 'target', props.source);
    // The endpoints are tested at creation; the role's policy must exist first.
    for (const e of [
      this.sourceEndpoint,
      this.targetEndpoint,
      this.reverseSourceEndpoint,
      this.reverseTargetEndpoint,
    ]) {
      e.node.addDependency(this.secretsAccessRole);
    }

    this.replicationTask = new ManagedReplicationTask(this, 'ForwardTask', {
      replicationInstanceArn: this.replicationInstance.ref,
      sourceEndpointArn: this.sourceEndpoint.ref,
      targetEndpointArn: this.targetEndpoint.ref,
      migrationType: 'full-load-and-cdc',
      tableMappings: buildPaymentTableMappings(config.dms.schemas),
      replicationTaskSettings: buildPaymentTaskSettings(),
      taskIdentifier: `${props.namePrefix}-forward`,
      logRetention: logRetention(config.logRetentionDays),
      logRemovalPolicy: removalPolicy,
      totalTimeout: Duration.minutes(55),
    });
    // Same mappings as the forward task, CDC only: the source already holds every row the target has
    // when the reverse task starts (the flip drains the forward task first).
    this.reverseTask = new ManagedReplicationTask(this, 'ReverseTask', {
      replicationInstanceArn: this.replicationInstance.ref,
      sourceEndpointArn: this.reverseSourceEndpoint.ref,
      targetEndpointArn: this.reverseTargetEndpoint.ref,
      migrationType: 'cdc',
      tableMappings: buildPaymentTableMappings(config.dms.schemas),
      replicationTaskSettings: buildPaymentTaskSettings(),
      taskIdentifier: `${props.namePrefix}-reverse`,
      logRetention: logRetention(config.logRetentionDays),
      logRemovalPolicy: removalPolicy,
      totalTimeout: Duration.minutes(55),
    });
    for (const task of [this.replicationTask, this.reverseTask]) {
      Validations.of(task).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${REF}:dms:${REF}:task:*]`,
        reason:
          'The task id is assigned by DMS at creation (and changes on replacement); the handlers manage tasks of this account and region only.',
      });
    }

    this.replicationTaskArnOutput = new CfnOutput(this, 'ReplicationTaskArn', {
      value: this.replicationTask.taskArn,
      description: 'Forward (source to target) DMS task',
    });
    new CfnOutput(this, 'ReverseReplicationTaskArn', {
      value: this.reverseTask.taskArn,
      description: 'Reverse (target to source) CDC task, started by the cutover workflow at the write flip',
    });
    new CfnOutput(this, 'ReplicationInstanceIdentifier', { value: this.replicationInstanceIdentifier });
    new CfnOutput(this, 'SourceDmsSecretArn', {
      value: props.source.dmsSecret.secretArn,
      description: 'DMS user of the source (create the user with the runbook step before starting the task)',
    });
    new CfnOutput(this, 'TargetDmsSecretArn', {
      value: props.target.dmsSecret.secretArn,
      description: 'DMS user of the target (create the user with the runbook step before starting the task)',
    });
  }
}
