import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { accessLogBucket, transactionLogBucket, transactionLogLifecycle } from './access-log-bucket';
import { Construct } from 'constructs';
import { acknowledgeGrantActionGroups } from '../../compliance/nag';
import { PaymentConfig } from '../../config/payment-config';
import { logRetention } from '../../stacks/migration-stack-props';
import { PaymentRole, POSTGRES_PORT } from '../../stacks/payment/payment-stack-props';
import { ParameterRef, RuntimeOwnedParameter } from '../runtime-owned-parameter';
import { initialDatabasePointer } from './cutover-workflow';
import { PAYMENT_COMPLIANCE_PACKS } from '../../compliance/payment-acknowledgements';

/**
 * RDS for PostgreSQL 17: the newest major AWS DMS documents as a source (DMS 3.6.1 or later) and
 * that aws-cdk-lib knows; RDS picks the current minor and upgrades minors automatically (docs/adr/0010).
 */
export const PAYMENT_POSTGRES_VERSION = rds.PostgresEngineVersion.VER_17;

/** User DMS connects as; created by the runbook step in docs/payment-cutover.md. */
export const DMS_DATABASE_USER = 'dms_user';
/** Database user of the payment service; it authenticates with IAM tokens, so it has no password. */
export const SERVICE_DATABASE_USER = 'payment_app';

/** Characters the rotation functions and DMS connection strings cannot carry in a password. */
const EXCLUDED_PASSWORD_CHARACTERS = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\';

/**
 * Parameters of an environment's parameter group. Both enforce TLS and log slow statements and
 * connections, and both turn on logical replication: the source for the forward task, the target for
 * the reverse (failback) task the cutover starts at the write flip. Each gets a slot and a WAL sender per
 * task (forward, reverse, one being replaced) and a sender timeout DMS accepts.
 */
export function postgresParameters(replicationSlots: number): Record<string, string> {
  return {
    'rds.force_ssl': '1',
    log_connections: '1',
    log_disconnections: '1',
    log_min_duration_statement: '1000',
    'rds.logical_replication': '1',
    max_replication_slots: String(replicationSlots),
    // Every slot needs a sender, plus headroom for pg_basebackup-style clients.
    max_wal_senders: String(replicationSlots + 5),
    // Non-zero so a dead DMS connection is dropped; DMS needs at least 10 s (its heartbeat keeps the
    // connection and the slot alive while the source is idle).
    wal_sender_timeout: '60000',
  };
}

export interface PaymentEnvironmentProps {
  /** Which side of the cutover this is; the source gets logical replication. */
  readonly role: PaymentRole;
  readonly config: PaymentConfig;
  /** Prefix of physical names (`payment-dev`). */
  readonly namePrefix: string;
  readonly vpc: ec2.IVpc;
  readonly loadBalancerSecurityGroup: ec2.ISecurityGroup;
  readonly serviceSecurityGroup: ec2.ISecurityGroup;
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  /** Group of the rotation functions; NetworkStack opened PostgreSQL from it to the database. */
  readonly rotationSecurityGroup: ec2.ISecurityGroup;
  /** Encrypts the database, its snapshots and both secrets. */
  readonly dataKey: kms.IKey;
  /** Encrypts the transaction-log bucket and every log group. */
  readonly logKey: kms.IKey;
  /** RETAIN keeps buckets, secrets and log groups and snapshots the database; DESTROY empties and deletes everything. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Name of the SSM parameter that says which database takes the application's writes (the cutover
   * workflow's database pointer). The source creates it (pointing at itself) before its service starts;
   * the target reads the same parameter, so until the write flip its service writes to the source.
   */
  readonly databasePointerName: string;
}

/**
 * One environment of the payment cutover, built the same way for source and target: RDS for
 * PostgreSQL with rotated credentials and a separate DMS user secret, the payment service on ECS
 * Fargate behind an Application Load Balancer, and the transaction-log bucket.
 */
export class PaymentEnvironment extends Construct {
  public readonly role: PaymentRole;
  public readonly database: rds.DatabaseInstance;
  /** Master credentials (rotated every `rotationDays`). */
  public readonly masterSecret: secretsmanager.ISecret;
  /**
   * Credentials of the DMS user with `host`, `port`, `dbname`: what a DMS endpoint reads through
   * `SecretsManagerSecretId` (DMS cannot use RDS-managed master secrets).
   */
  public readonly dmsSecret: secretsmanager.Secret;
  public readonly cluster: ecs.Cluster;
  public readonly service: ecs.FargateService;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly healthCheckPath: string;
  /** HTTPS when a certificate is configured, otherwise HTTP. */
  public readonly protocol: 'HTTP' | 'HTTPS';
  /** `<scheme>://<ALB DNS name><health path>`. */
  public readonly healthUrl: string;
  /** Transaction logs written by the service. */
  public readonly logBucket: s3.Bucket;
  /** S3 server access logs of the log bucket and the load balancer's access logs (SSE-S3, as both require). */
  public readonly accessLogBucket: s3.Bucket;
  public readonly serviceLogGroup: logs.LogGroup;
  /** The database pointer every task reads at start as the secret `DB_POINTER`. */
  public readonly databasePointer: ParameterRef;
  /** Role of the service's tasks (IAM database authentication, log bucket writes). */
  public readonly taskRole: iam.IRole;

  constructor(scope: Construct, id: string, props: PaymentEnvironmentProps) {
    super(scope, id);
    const { config, role, removalPolicy } = props;
    const disposable = removalPolicy === RemovalPolicy.DESTROY;
    const retention = logRetention(config.logRetentionDays);
    const stack = Stack.of(this);
    this.role = role;
    this.healthCheckPath = config.service.healthCheckPath;
    this.protocol = config.service.certificateArn ? 'HTTPS' : 'HTTP';

    // --- Buckets ---------------------------------------------------------------------------
    this.accessLogBucket = accessLogBucket(this, 'AccessLogBucket', {
      expirationDays: config.logs.accessLogExpirationDays,
      removalPolicy,
      deliveries: 'S3 server access logs and ALB access logs',
      notReplicatedBecause:
        'Access logs are operational evidence of this region; only transaction logs are replicated cross-region.',
    });
    this.logBucket = transactionLogBucket(this, 'LogBucket', {
      key: props.logKey,
      accessLogBucket: this.accessLogBucket,
      accessLogPrefix: 'log-bucket/',
      lifecycleRules: transactionLogLifecycle(config.logs, true),
      removalPolicy,
    });

    // --- Database --------------------------------------------------------------------------
    const engine = rds.DatabaseInstanceEngine.postgres({ version: PAYMENT_POSTGRES_VERSION });
    const instanceIdentifier = `${props.namePrefix}-${role}`;
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: `${instanceIdentifier}: TLS only, connection logging, logical replication for DMS`,
      parameters: postgresParameters(config.dms.replicationSlots),
    });
    // Created before the instance so the exported logs land in encrypted groups with retention
    // (RDS would otherwise create them unencrypted and kept forever).
    const databaseLogGroups = ['postgresql', 'upgrade'].map(
      (kind) =>
        new logs.LogGroup(this, `Database${kind === 'postgresql' ? 'Postgresql' : 'Upgrade'}Logs`, {
          logGroupName: `/aws/rds/instance/${instanceIdentifier}/${kind}`,
          encryptionKey: props.logKey,
          retention,
          removalPolicy,
        }),
    );
    const burstable = /^db\.t\d/.test(config.database.instanceClass);
    this.database = new rds.DatabaseInstance(this, 'Database', {
      engine,
      instanceIdentifier,
      instanceType: new ec2.InstanceType(config.database.instanceClass.replace(/^db\./, '')),
      parameterGroup,
      credentials: rds.Credentials.fromGeneratedSecret('payment_admin', {
        encryptionKey: props.dataKey,
        excludeCharacters: EXCLUDED_PASSWORD_CHARACTERS,
      }),
      databaseName: config.database.databaseName,
      port: POSTGRES_PORT,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [props.databaseSecurityGroup],
      publiclyAccessible: false,
      storageType: rds.StorageType.GP3,
      allocatedStorage: config.database.allocatedStorageGb,
      maxAllocatedStorage: config.database.maxAllocatedStorageGb,
      storageEncrypted: true,
      storageEncryptionKey: props.dataKey,
      multiAz: config.database.multiAz,
      backupRetention: Duration.days(config.database.backupRetentionDays),
      deleteAutomatedBackups: disposable,
      preferredBackupWindow: '06:00-07:00',
      preferredMaintenanceWindow: role === 'source' ? 'sun:08:00-sun:09:00' : 'mon:08:00-mon:09:00',
      autoMinorVersionUpgrade: true,
      iamAuthentication: true,
      cloudwatchLogsExports: ['postgresql', 'upgrade'],
      monitoringInterval: Duration.seconds(60),
      // Performance Insights is not offered on the small burstable classes dev uses.
      ...(burstable ? {} : { enablePerformanceInsights: true, performanceInsightEncryptionKey: props.dataKey }),
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      deletionProtection: !disposable,
      copyTagsToSnapshot: true,
      removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.SNAPSHOT,
    });
    this.database.node.addDependency(...databaseLogGroups);
    this.masterSecret = this.database.secret!;
    // `database.secret` is the secret's attachment to the instance: the removal policy belongs on the
    // generated secret itself, or RETAIN would keep the attachment and delete the credentials.
    (this.database.node.findChild('Secret') as secretsmanager.Secret).applyRemovalPolicy(removalPolicy);

    // DMS reads host, port and database from the secret; the password is generated, never in a template.
    this.dmsSecret = new secretsmanager.Secret(this, 'DmsSecret', {
      description: `${instanceIdentifier}: database user DMS connects as (create it with the runbook step)`,
      encryptionKey: props.dataKey,
      removalPolicy,
      generateSecretString: {
        secretStringTemplate: stack.toJsonString({
          engine: 'postgres',
          username: DMS_DATABASE_USER,
          host: this.database.dbInstanceEndpointAddress,
          port: POSTGRES_PORT,
          dbname: config.database.databaseName,
        }),
        generateStringKey: 'password',
        excludeCharacters: EXCLUDED_PASSWORD_CHARACTERS,
        passwordLength: 32,
      },
    });

    // Single-user rotation in the VPC: the function logs in as the user it rotates. A literal port
    // keeps the rule in NetworkStack free of references to this stack.
    const rotationTarget = {
      connections: new ec2.Connections({
        securityGroups: [props.databaseSecurityGroup],
        defaultPort: ec2.Port.tcp(POSTGRES_PORT),
      }),
    };
    const rotation = (rotationId: string, secret: secretsmanager.ISecret, rotateNow: boolean) =>
      new secretsmanager.SecretRotation(this, rotationId, {
        application: secretsmanager.SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
        secret,
        target: rotationTarget,
        vpc: props.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroup: props.rotationSecurityGroup,
        automaticallyAfter: Duration.days(config.database.rotationDays),
        excludeCharacters: EXCLUDED_PASSWORD_CHARACTERS,
        rotateImmediatelyOnUpdate: rotateNow,
      });
    rotation('MasterRotation', this.masterSecret, true);
    // The DMS user exists only after the runbook step; a rotation at deploy time would fail on a
    // user that is not there yet, so the first rotation comes after one period.
    rotation('DmsRotation', this.dmsSecret, false);

    // --- Service ---------------------------------------------------------------------------
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    this.serviceLogGroup = new logs.LogGroup(this, 'ServiceLogs', {
      encryptionKey: props.logKey,
      retention,
      removalPolicy,
    });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: config.service.cpu,
      memoryLimitMiB: config.service.memoryMiB,
    });
    const repository = ecr.Repository.fromRepositoryName(this, 'Repository', config.service.ecrRepositoryName);
    // Source: the pointer is created here, naming this database, before the service starts its first
    // task (ECS refuses to start a task whose secret is missing). Target: the same parameter, created
    // by the source stack, which deploys first.
    const pointer =
      role === 'source'
        ? new RuntimeOwnedParameter(
            this,
            'DatabasePointer',
            props.databasePointerName,
            initialDatabasePointer(stack, this.database.dbInstanceEndpointAddress, POSTGRES_PORT),
          )
        : undefined;
    this.databasePointer = pointer ?? {
      parameterName: props.databasePointerName,
      parameterArn: stack.formatArn({
        service: 'ssm',
        resource: 'parameter',
        resourceName: props.databasePointerName.replace(/^\//, ''),
      }),
    };
    const pointerParameter = ssm.StringParameter.fromStringParameterAttributes(this, 'DatabasePointerParameter', {
      parameterName: props.databasePointerName,
      simpleName: false,
    });
    taskDefinition.addContainer('Service', {
      image: ecs.ContainerImage.fromEcrRepository(repository, config.service.imageTag),
      portMappings: [{ containerPort: config.service.containerPort, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.serviceLogGroup, streamPrefix: 'service' }),
      readonlyRootFilesystem: true,
      // A hard limit per container and a non-root user (the image must run as uid 1000).
      memoryLimitMiB: config.service.memoryMiB,
      user: '1000',
      // Connection coordinates only: the service signs in with an IAM token (rds-db:connect), no password.
      // Which database takes writes comes from the pointer (`{ writer, host, port }`), never from here.
      secrets: { DB_POINTER: ecs.Secret.fromSsmParameter(pointerParameter) },
      environment: {
        PAYMENT_ROLE: role,
        DB_NAME: config.database.databaseName,
        DB_USER: SERVICE_DATABASE_USER,
        DB_IAM_AUTH: 'true',
        DB_SSL_MODE: 'verify-full',
        TRANSACTION_LOG_BUCKET: this.logBucket.bucketName,
      },
    });
    this.taskRole = taskDefinition.taskRole;
    this.database.grantConnect(taskDefinition.taskRole, SERVICE_DATABASE_USER);
    this.logBucket.grantPut(taskDefinition.taskRole);

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: config.service.desiredCount,
      securityGroups: [props.serviceSecurityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    if (pointer) this.service.node.addDependency(pointer);
    const scaling = this.service.autoScaleTaskCount({
      minCapacity: config.service.minCount,
      maxCapacity: config.service.maxCount,
    });
    scaling.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: config.service.targetUtilizationPercent });
    scaling.scaleOnMemoryUtilization('MemoryScaling', {
      targetUtilizationPercent: config.service.targetUtilizationPercent,
    });

    // --- Load balancer ---------------------------------------------------------------------
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: props.loadBalancerSecurityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: !disposable,
    });
    this.loadBalancer.logAccessLogs(this.accessLogBucket, 'alb');
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      targetType: elbv2.TargetType.IP,
      protocol: elbv2.ApplicationProtocol.HTTP,
      port: config.service.containerPort,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: config.service.healthCheckPath,
        interval: Duration.seconds(15),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
        healthyHttpCodes: '200',
      },
    });
    this.targetGroup.addTarget(this.service);
    if (config.service.certificateArn) {
      this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(config.service.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [this.targetGroup],
        open: false,
      });
      const redirect = this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
      Validations.of(redirect).acknowledge(
        ...PAYMENT_COMPLIANCE_PACKS.map((pack) => ({
          id: `${pack}-ELBv2ACMCertificateRequired`,
          reason:
            'Port 80 only answers with a redirect to the HTTPS listener (which uses the ACM certificate); it serves no content.',
        })),
      );
    } else {
      this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [this.targetGroup],
        open: false,
      });
    }
    this.healthUrl = `${this.protocol.toLowerCase()}://${this.loadBalancer.loadBalancerDnsName}${this.healthCheckPath}`;

    this.acknowledgeFindings(config);
    new CfnOutput(this, 'HealthUrl', {
      value: this.healthUrl,
      description: `Health endpoint of the ${role} service through its load balancer`,
    });
  }

  private acknowledgeFindings(config: PaymentConfig): void {
    const role = this.role;
    const packs = PAYMENT_COMPLIANCE_PACKS;
    if (role === 'target') {
      Validations.of(this.logBucket).acknowledge(
        ...packs.map((pack) => ({
          id: `${pack}-S3BucketReplicationEnabled`,
          reason:
            'Issue 10 replicates the source environment’s transaction logs; the target’s log bucket takes that role after the cutover (docs/payment-cutover.md).',
        })),
      );
    }
    Validations.of(this.database).acknowledge(
      {
        id: 'AwsSolutions-RDS11',
        reason: 'DMS, the rotation functions and PostgreSQL clients use 5432; access is limited by security groups.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
        reason: 'The enhanced-monitoring role uses the AWS-managed policy RDS requires; it grants log writes only.',
      },
      ...(config.removal === 'destroy'
        ? [
            {
              id: 'AwsSolutions-RDS10',
              reason: `Non-prod payment environments are disposable (payment.removal = destroy, as the seeds ask); prod keeps deletion protection on.`,
            },
            {
              id: 'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled',
              reason: 'Non-prod payment environments are disposable by design; prod keeps deletion protection on.',
            },
          ]
        : []),
      ...(config.database.multiAz
        ? []
        : [
            {
              id: 'AwsSolutions-RDS3',
              reason: 'Single-AZ only outside prod (config validation requires Multi-AZ in prod) to save cost.',
            },
            {
              id: 'NIST.800.53.R5-RDSMultiAZSupport',
              reason: 'Single-AZ only outside prod (config validation requires Multi-AZ in prod) to save cost.',
            },
          ]),
      {
        id: 'NIST.800.53.R5-RDSInBackupPlan',
        reason: `RDS automated backups with point-in-time recovery (${config.database.backupRetentionDays} days) cover the database; no separate AWS Backup plan.`,
      },
    );
    Validations.of(this.service.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds connection coordinates and the bucket name only; the service authenticates with IAM tokens.',
    });
    if (this.protocol === 'HTTP') {
      Validations.of(this.loadBalancer).acknowledge(
        ...packs.flatMap((pack) => [
          {
            id: `${pack}-ALBHttpToHttpsRedirection`,
            reason: `No certificate is configured for ${role} (payment.service.certificateArn); set one and the listener becomes HTTPS with a redirect.`,
          },
          {
            id: `${pack}-ELBv2ACMCertificateRequired`,
            reason: `No certificate is configured for ${role} (payment.service.certificateArn); an ACM certificate is used as soon as one is set.`,
          },
          {
            id: `${pack}-ELBTlsHttpsListenersOnly`,
            reason: `No certificate is configured for ${role} (payment.service.certificateArn); HTTP until one is set (docs/payment-cutover.md).`,
          },
        ]),
      );
    }
    if (config.removal === 'destroy') {
      Validations.of(this.loadBalancer).acknowledge({
        id: 'NIST.800.53.R5-ELBDeletionProtectionEnabled',
        reason:
          'Non-prod payment environments are disposable by design (payment.removal = destroy); prod turns deletion protection on.',
      });
    }
    const taskDefinition = this.service.taskDefinition;
    const bucketLogicalId = Stack.of(this).getLogicalId(this.logBucket.node.defaultChild as s3.CfnBucket);
    acknowledgeGrantActionGroups(taskDefinition.taskRole, 'the transaction-log bucket of this environment and its key');
    Validations.of(taskDefinition.taskRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/*]`,
      reason: 'The service writes transaction logs under keys it chooses, in this one bucket.',
    });
    Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken supports no resource-level permissions; image pulls are limited to the one repository.',
    });
    Validations.of(this.loadBalancer).acknowledge(
      ...packs.map((pack) => ({
        id: `${pack}-ALBWAFEnabled`,
        reason:
          'A WAF web ACL belongs to the edge in front of the weighted record, owned outside this stage (docs/payment-cutover.md).',
      })),
    );
  }
}
