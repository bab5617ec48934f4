import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { logRetention, MigrationStackProps, statefulRemoval } from './migration-stack-props';
import { denyGrantsExceptForAwsServices } from '../constructs/key-policy';

/** Aurora MySQL 3.10 is the current long-term-support minor (docs/adr/0003). */
export const AURORA_ENGINE_VERSION = rds.AuroraMysqlEngineVersion.VER_3_10_4;

export interface DatabaseStackProps extends MigrationStackProps {
  readonly vpc: ec2.IVpc;
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  /** Security group the rotation function runs in; it needs MySQL to the cluster and HTTPS to Secrets Manager. */
  readonly rotationSecurityGroup: ec2.ISecurityGroup;
}

/**
 * The Aurora MySQL target of the migration: isolated subnets, KMS, TLS required, audit logging,
 * generated credentials rotated by Secrets Manager.
 */
export class DatabaseStack extends Stack {
  public readonly cluster: rds.DatabaseCluster;
  public readonly secret: secretsmanager.ISecret;
  public readonly databaseKey: kms.Key;

  constructor(scope: Construct, id: string, props: DatabaseStackProps) {
    super(scope, id, props);
    const { config, vpc } = props;
    const db = config.database;
    const removal = statefulRemoval(config);

    this.databaseKey = new kms.Key(this, 'DatabaseKey', {
      description: 'Encrypts the Aurora cluster and its credentials',
      enableKeyRotation: true,
      removalPolicy: removal,
    });
    denyGrantsExceptForAwsServices(this.databaseKey);

    const engine = rds.DatabaseClusterEngine.auroraMysql({ version: AURORA_ENGINE_VERSION });
    const parameterGroup = new rds.ParameterGroup(this, 'ClusterParameters', {
      engine,
      description: 'TLS only, audit and slow-query logging',
      parameters: {
        require_secure_transport: 'ON',
        tls_version: 'TLSv1.2,TLSv1.3',
        server_audit_logging: '1',
        server_audit_events: 'CONNECT,QUERY_DCL,QUERY_DDL',
        general_log: '1',
        slow_query_log: '1',
        long_query_time: '2',
        log_output: 'FILE',
      },
    });

    const instanceProps = {
      publiclyAccessible: false,
      autoMinorVersionUpgrade: false,
      enablePerformanceInsights: true,
    };
    const writer =
      db.sizing.kind === 'serverless'
        ? rds.ClusterInstance.serverlessV2('Writer', instanceProps)
        : rds.ClusterInstance.provisioned('Writer', {
            ...instanceProps,
            instanceType: new ec2.InstanceType(db.sizing.instanceType),
          });
    const readers = Array.from({ length: db.readers }, (_, i) =>
      db.sizing.kind === 'serverless'
        ? rds.ClusterInstance.serverlessV2(`Reader${i + 1}`, { ...instanceProps, scaleWithWriter: true })
        : rds.ClusterInstance.provisioned(`Reader${i + 1}`, {
            ...instanceProps,
            instanceType: new ec2.InstanceType(db.sizing.instanceType),
          }),
    );

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine,
      parameterGroup,
      writer,
      readers,
      ...(db.sizing.kind === 'serverless'
        ? { serverlessV2MinCapacity: db.sizing.minCapacity, serverlessV2MaxCapacity: db.sizing.maxCapacity }
        : {}),
      credentials: rds.Credentials.fromGeneratedSecret('migration_admin', {
        encryptionKey: this.databaseKey,
        excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
      }),
      defaultDatabaseName: db.defaultDatabaseName,
      // A literal port keeps security-group rules in NetworkStack free of references to this stack.
      port: 3306,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [props.databaseSecurityGroup],
      storageEncrypted: true,
      storageEncryptionKey: this.databaseKey,
      backup: { retention: Duration.days(db.backupRetentionDays), preferredWindow: '08:00-09:00' },
      preferredMaintenanceWindow: 'sun:10:00-sun:11:00',
      cloudwatchLogsExports: ['error', 'general', 'slowquery', 'audit'],
      cloudwatchLogsRetention: logRetention(config.logRetentionDays),
      deletionProtection: db.deletionProtection,
      iamAuthentication: true,
      monitoringInterval: Duration.seconds(60),
      // Retained environments keep a final snapshot; dev is disposable.
      removalPolicy: removal === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.SNAPSHOT,
    });
    this.secret = this.cluster.secret!;
    // `cluster.secret` is the secret's attachment to the cluster; the generated secret itself is the child
    // `Secret`, and it must follow the environment's removal policy, or deleting the stack deletes the credentials.
    (this.cluster.node.findChild('Secret') as secretsmanager.Secret).applyRemovalPolicy(removal);

    // Rotation runs in private subnets (not isolated): it reaches Secrets Manager through the
    // interface endpoint and the cluster through the security groups NetworkStack opened. The
    // target is given with a literal port so the rule CDK adds stays inside NetworkStack (the
    // cluster's own port is a token of this stack and would make the two stacks depend on each other).
    new secretsmanager.SecretRotation(this, 'Rotation', {
      application: secretsmanager.SecretRotationApplication.MYSQL_ROTATION_SINGLE_USER,
      secret: this.secret,
      target: {
        connections: new ec2.Connections({
          securityGroups: [props.databaseSecurityGroup],
          defaultPort: ec2.Port.tcp(3306),
        }),
      },
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroup: props.rotationSecurityGroup,
      automaticallyAfter: Duration.days(db.rotationDays),
    });

    Validations.of(this.cluster).acknowledge(
      {
        id: 'AwsSolutions-RDS11',
        reason: 'DMS, the rotation function and MySQL clients expect 3306; access is limited by security groups.',
      },
      {
        id: 'AwsSolutions-RDS14',
        reason:
          'Recovery uses 7-day automated backups with point-in-time restore; backtrack would add cost and does not cover the DMS-loaded history.',
      },
    );
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason: 'The enhanced-monitoring role uses the AWS-managed policy RDS requires; it grants log writes only.',
    });

    if (!db.deletionProtection) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: `Deletion protection is off only where config allows it (${config.envName}: disposable); prod validation requires it on.`,
      });
      Validations.of(this.cluster.node.defaultChild!).acknowledge({
        id: 'cdk-validator-cfnguard::rds_cluster_deletion_protection_enabled_check',
        reason: `CT.RDS.PR.3: off only in ${config.envName}, which config marks disposable; staging and prod keep it on.`,
      });
    }
    // cloudwatchLogsRetention uses aws-cdk-lib's LogRetention singleton function.
    const logRetentionFn = this.node.tryFindChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a');
    if (logRetentionFn) {
      Validations.of(logRetentionFn).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            'aws-cdk-lib LogRetention function that sets retention on the RDS log groups; basic execution policy for its own logs.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'The RDS log group names are chosen by RDS at deploy time; the LogRetention function must be allowed to set retention on them.',
        },
      );
    }

    new CfnOutput(this, 'ClusterEndpoint', { value: this.cluster.clusterEndpoint.hostname });
    new CfnOutput(this, 'ClusterSecretArn', { value: this.secret.secretArn });
  }
}
