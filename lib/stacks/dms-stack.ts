import { CfnOutput, Fn, Lazy, Stack, Validations } from 'aws-cdk-lib';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { REF } from '../compliance/nag';
import { ManagedReplicationTask } from '../constructs/managed-replication-task';
import { deploymentSuffix } from '../constructs/physical-names';
import { privateReplicationInstance } from '../constructs/replication-instance';
import { buildTableMappings, buildTaskSettings } from '../dms/task-definition';
import { logRetention, MigrationStackProps, statefulRemoval } from './migration-stack-props';
import { denyGrantsExceptForAwsServices } from '../constructs/key-policy';

export interface DmsStackProps extends MigrationStackProps {
  readonly vpc: ec2.IVpc;
  readonly dmsSecurityGroup: ec2.ISecurityGroup;
  /** Aurora credentials (rotated); DMS reads them through the access role at connect time. */
  readonly targetSecret: secretsmanager.ISecret;
  /** Key that encrypts the target secret. */
  readonly targetSecretKey: kms.IKey;
  /**
   * The account-wide DMS roles (NetworkStack's `DmsAccountRoles`). They are created stacks earlier
   * because IAM is eventually consistent and DMS rejects a subnet group while `dms-vpc-role` is new.
   */
  readonly accountRolesReady: IDependable[];
}

/**
 * Replicates the allowlisted schemas of the on-premises MySQL into Aurora with a full load plus
 * CDC. Both endpoints authenticate through Secrets Manager, so no password reaches a template, and
 * rotation of the Aurora secret needs no endpoint update.
 */
export class DmsStack extends Stack {
  public readonly replicationInstance: dms.CfnReplicationInstance;
  public readonly sourceEndpoint: dms.CfnEndpoint;
  public readonly targetEndpoint: dms.CfnEndpoint;
  public readonly task: ManagedReplicationTask;
  /** Secret holding the source database user; filled by an operator when not given in config. */
  public readonly sourceSecret: secretsmanager.ISecret;
  /** Name of the replication instance, the dimension DMS publishes metrics under. */
  public readonly replicationInstanceIdentifier: string;
  /** The group DMS writes task logs to (`dms-tasks-<instance>`), created here so it has retention. */
  public readonly taskLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DmsStackProps) {
    super(scope, id, props);
    const { config, vpc } = props;
    const removal = statefulRemoval(config);

    const dmsKey = new kms.Key(this, 'DmsKey', {
      description: 'Encrypts the DMS replication instance storage and the source secret',
      enableKeyRotation: true,
      removalPolicy: removal,
    });
    denyGrantsExceptForAwsServices(dmsKey);

    // DMS writes task logs to `dms-tasks-<replication instance identifier>` (a name DMS dictates), so
    // the instance carries an explicit identifier: the stack name (stage and sandbox) so two stages
    // never collide, plus the stack id's first UUID block so a re-created stack never meets the
    // retained log group (or a lingering instance) of an earlier deployment.
    const base = `${this.stackName}-replication`
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/-+/g, '-');
    this.replicationInstanceIdentifier = Fn.join('-', [base, deploymentSuffix(this)]);
    this.taskLogGroup = new logs.LogGroup(this, 'TaskLogs', {
      logGroupName: Fn.join('', ['dms-tasks-', this.replicationInstanceIdentifier]),
      retention: logRetention(config.logRetentionDays),
      removalPolicy: removal,
    });
    this.replicationInstance = privateReplicationInstance(this, {
      identifier: this.replicationInstanceIdentifier,
      sizing: config.dms,
      storageKey: dmsKey,
      securityGroup: props.dmsSecurityGroup,
      vpc,
      subnetGroupDescription: `DMS subnets (${config.envName})`,
      accountRolesReady: props.accountRolesReady,
    });

    this.sourceSecret = config.dms.source.secretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'SourceSecret', config.dms.source.secretArn)
      : new secretsmanager.Secret(this, 'SourceSecret', {
          description: `Source MySQL user for DMS (${config.envName}); create this user on the source with the generated password`,
          encryptionKey: dmsKey,
          removalPolicy: removal,
          generateSecretString: {
            secretStringTemplate: JSON.stringify({
              username: 'dms_migration',
              host: config.dms.source.serverName,
              port: config.dms.source.port,
            }),
            generateStringKey: 'password',
            excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
          },
        });
    if (this.sourceSecret instanceof secretsmanager.Secret) {
      Validations.of(this.sourceSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The source user lives on the on-premises MySQL; rotating it needs a rotation function with a route and privileges there, which the operator owns (README: DMS source credentials).',
      });
    }

    // DMS assumes this role to read both secrets; the regional service principal is what DMS uses
    // for SecretsManagerAccessRoleArn.
    const secretsAccessRole = new iam.Role(this, 'SecretsAccessRole', {
      assumedBy: new iam.ServicePrincipal(`dms.${this.region}.amazonaws.com`),
      description: 'DMS reads the source and target endpoint secrets',
    });
    this.sourceSecret.grantRead(secretsAccessRole);
    // Granted on the role, not through the secret: Secret.grantRead would add the role to the key
    // policy in DatabaseStack, which then depends on this stack and closes a cycle.
    secretsAccessRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [props.targetSecret.secretArn],
      }),
    );
    secretsAccessRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [props.targetSecretKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
      }),
    );

    this.sourceEndpoint = new dms.CfnEndpoint(this, 'SourceEndpoint', {
      endpointType: 'source',
      engineName: 'mysql',
      sslMode: 'require',
      mySqlSettings: {
        secretsManagerSecretId: this.sourceSecret.secretArn,
        secretsManagerAccessRoleArn: secretsAccessRole.roleArn,
      },
    });
    this.targetEndpoint = new dms.CfnEndpoint(this, 'TargetEndpoint', {
      endpointType: 'target',
      engineName: 'aurora',
      sslMode: 'require',
      mySqlSettings: {
        secretsManagerSecretId: props.targetSecret.secretArn,
        secretsManagerAccessRoleArn: secretsAccessRole.roleArn,
      },
    });
    // The endpoints are tested at creation; the role's policy must exist first.
    for (const e of [this.sourceEndpoint, this.targetEndpoint]) e.node.addDependency(secretsAccessRole);

    this.task = new ManagedReplicationTask(this, 'ReplicationTask', {
      replicationInstanceArn: this.replicationInstance.ref,
      sourceEndpointArn: this.sourceEndpoint.ref,
      targetEndpointArn: this.targetEndpoint.ref,
      migrationType: 'full-load-and-cdc',
      tableMappings: buildTableMappings(config.dms.schemas),
      replicationTaskSettings: buildTaskSettings(config.dms.targetTablePrepMode),
      logRetention: logRetention(config.logRetentionDays),
      // Properties whose change replaces the instance while `Ref` to it stays the same (read at synth).
      replacementInputs: {
        instance: Lazy.any({
          produce: () => [
            this.replicationInstance.replicationInstanceIdentifier,
            this.replicationInstance.kmsKeyId,
            this.replicationInstance.replicationSubnetGroupIdentifier,
            this.replicationInstance.publiclyAccessible,
          ],
        }),
      },
    });

    Validations.of(this.task).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${REF}:dms:${REF}:task:*]`,
      reason:
        'The task id is assigned by DMS at creation (and changes on replacement); the role manages tasks of this account and region only.',
    });

    new CfnOutput(this, 'ReplicationTaskArn', { value: this.task.taskArn });
    new CfnOutput(this, 'ReplicationTaskArnParameterName', {
      value: this.task.taskArnParameter.parameterName,
      description:
        'SSM parameter holding the current replication task ARN (read by the workflow, handlers and npm run ops)',
    });
    new CfnOutput(this, 'SourceSecretArn', {
      value: this.sourceSecret.secretArn,
      description: 'Secret DMS uses for the source MySQL (username, password, host, port)',
    });
  }
}
