import {
  CfnElement,
  CfnOutput,
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct, IDependable } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import { MigrationFunction } from '../constructs/migration-function';
import { denyGrantsExceptForAwsServices } from '../constructs/key-policy';
import { SERVICE_LOG_PREFIXES, serviceLogGroupName } from '../constructs/shared-log-delivery-policy';

export interface LoggingStackProps extends StackProps {
  /** The environment: OpenSearch sizing, index retention, log retention, storage lifecycle. */
  readonly config: EnvironmentConfig;
  /**
   * The stage's VPC (NetworkStack). The domain, the Firehose ENIs and the setup function go into its
   * PRIVATE_ISOLATED subnets: none of them needs a route out of the VPC.
   */
  readonly vpc: ec2.IVpc;
  /**
   * NetworkStack's OpenSearch security group, attached to the domain. This stack adds ingress on
   * 443 from the security groups it creates (Firehose delivery, setup function).
   */
  readonly openSearchSecurityGroup: ec2.ISecurityGroup;
  /** Removal of the domain, key, buckets and log groups: RETAIN everywhere except dev. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * The OpenSearch service-linked role (NetworkStack's `openSearchServiceLinkedRole.ready`): a VPC
   * domain cannot be created in an account that lacks it.
   */
  readonly serviceLinkedRoleReady: IDependable;
  /**
   * The account's shared CloudWatch Logs resource policy that lets OpenSearch write its logs
   * (NetworkStack's `logDeliveryPolicy.ready`); the domain log groups are named under its prefix.
   */
  readonly logDeliveryPolicyReady: IDependable;
}

/** Every audit index starts with this; the ISM policy and the Firehose writer role cover `audit-*`. */
export const AUDIT_INDEX_PREFIX = 'audit-';
export const AUDIT_EVENTS_INDEX = `${AUDIT_INDEX_PREFIX}events`;
export const AUDIT_LOGS_INDEX = `${AUDIT_INDEX_PREFIX}logs`;
/** How long Firehose retries a refused bulk request before the documents go to the S3 backup. */
export const DELIVERY_RETRY = Duration.minutes(5);

/** Construct id of the stack-wide Lambda behind every AwsCustomResource (fixed by aws-cdk-lib). */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

/** Oldest version whose features the setup relies on (`flat_object` in the events index template). */
const MIN_ENGINE: readonly [number, number] = [2, 7];

/**
 * Turns `OpenSearch_X.Y` from config into an engine version the installed aws-cdk-lib knows
 * (docs/adr/0002-opensearch-version.md). Throws a clear error otherwise.
 */
export function parseEngineVersion(configured: string): opensearch.EngineVersion {
  const m = /^OpenSearch_(\d+)\.(\d+)$/.exec(configured);
  if (!m)
    throw new Error(
      `openSearch.engineVersion: expected OpenSearch_X.Y (e.g. OpenSearch_2.19), got ${JSON.stringify(configured)}`,
    );
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < MIN_ENGINE[0] || (major === MIN_ENGINE[0] && minor < MIN_ENGINE[1])) {
    throw new Error(
      `openSearch.engineVersion: ${configured} is older than OpenSearch_${MIN_ENGINE.join('.')}, which the audit index templates need`,
    );
  }
  const known = Object.values(opensearch.EngineVersion)
    .filter((v): v is opensearch.EngineVersion => v instanceof opensearch.EngineVersion)
    .map((v) => v.version);
  if (!known.includes(configured)) {
    const openSearch = known.filter((v) => v.startsWith('OpenSearch_')).join(', ');
    throw new Error(
      `openSearch.engineVersion: ${configured} is unknown to the installed aws-cdk-lib; known: ${openSearch}`,
    );
  }
  return opensearch.EngineVersion.openSearch(`${major}.${minor}`);
}

function retentionOf(days: number): logs.RetentionDays {
  if (!(Object.values(logs.RetentionDays) as unknown[]).includes(days)) {
    throw new Error(
      `logRetentionDays: ${days} is not a retention CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, ...)`,
    );
  }
  return days as logs.RetentionDays;
}

/**
 * The audit trail: an OpenSearch domain in the isolated subnets, fed by two Firehose streams
 * (EventBridge events into `audit-events-YYYY-MM-DD`, CloudWatch Logs into `audit-logs-YYYY-MM-DD`)
 * that retry for five minutes and back up refused documents to an encrypted bucket. A custom
 * resource sets up index templates, the ISM policy that deletes old indices and the writer role.
 */
export class LoggingStack extends Stack {
  public readonly domain: opensearch.IDomain;
  public readonly domainEndpoint: string;
  /** Holds documents the domain refused and log records the transform could not read. */
  public readonly backupBucket: s3.IBucket;
  /** Firehose stream of EventBridge events; its name is the dimension of the AWS/Firehose metrics. */
  public readonly eventsDeliveryStreamName: string;
  /** Firehose stream of CloudWatch Logs subscriptions. */
  public readonly logsDeliveryStreamName: string;

  private readonly eventsStream: firehose.CfnDeliveryStream;
  private readonly logsStream: firehose.CfnDeliveryStream;
  private readonly eventsPutRole: iam.Role;
  private readonly logsPutRole: iam.Role;

  constructor(scope: Construct, id: string, props: LoggingStackProps) {
    super(scope, id, props);
    const { config, vpc, removalPolicy } = props;
    const os = config.openSearch;
    const logRetention = retentionOf(config.logRetentionDays);
    const disposable = removalPolicy === RemovalPolicy.DESTROY;
    const adminRoleArn = os.adminRoleArn;

    const key = new kms.Key(this, 'AuditKey', {
      description: 'Encrypts the audit domain, its Firehose streams and their S3 backup',
      enableKeyRotation: true,
      removalPolicy,
    });
    denyGrantsExceptForAwsServices(key);

    // Placement: one isolated subnet per AZ the domain spans; zone awareness needs two or more.
    const isolated = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED, onePerAz: true }).subnets;
    const zoneAware = os.dataNodes >= 2;
    const azCount = zoneAware ? Math.min(3, isolated.length) : 1;
    if (isolated.length < 1 || (zoneAware && azCount < 2)) {
      throw new Error(
        `LoggingStack needs PRIVATE_ISOLATED subnets in ${zoneAware ? 'two or more AZs' : 'one AZ'}; the VPC has ${isolated.length}`,
      );
    }
    if (zoneAware && os.dataNodes % azCount !== 0) {
      throw new Error(`openSearch.dataNodes: ${os.dataNodes} data nodes cannot be spread evenly over ${azCount} AZs`);
    }
    const domainSubnets = isolated.slice(0, azCount);

    // The domain is reached only from security groups created here (and whatever NetworkStack allows).
    const firehoseSg = new ec2.SecurityGroup(this, 'FirehoseDeliverySecurityGroup', {
      vpc,
      description: 'Firehose ENIs delivering the audit trail to OpenSearch',
      allowAllOutbound: false,
    });
    const setupSg = new ec2.SecurityGroup(this, 'OpenSearchSetupSecurityGroup', {
      vpc,
      description: 'OpenSearch setup custom resource',
      allowAllOutbound: false,
    });
    for (const [sg, who] of [
      [firehoseSg, 'Firehose delivery'],
      [setupSg, 'OpenSearch setup function'],
    ] as const) {
      sg.addEgressRule(props.openSearchSecurityGroup, ec2.Port.tcp(443), 'HTTPS to the audit domain');
      // remoteRule: the ingress resource lives in this stack, so NetworkStack never depends on it.
      props.openSearchSecurityGroup.addIngressRule(sg, ec2.Port.tcp(443), `${who} to the audit domain`, true);
    }

    // The setup function's role is the domain's master user: no password exists anywhere.
    const setupFn = new MigrationFunction(this, 'OpenSearchSetupFunction', {
      handlerName: 'opensearch-setup',
      description: 'Configures index templates, ISM retention and the Firehose writer role on the audit domain',
      logRetention,
      logRemovalPolicy: removalPolicy,
      timeout: Duration.minutes(10),
      vpc,
      vpcSubnets: { subnets: domainSubnets },
      securityGroups: [setupSg],
    });
    const setupRole = setupFn.role!;

    const firehoseRole = new iam.Role(this, 'FirehoseDeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'Amazon Data Firehose delivery of the audit trail into OpenSearch and the S3 backup',
    });

    // Named under the shared log-delivery policy's prefix (one account-wide policy instead of one per
    // stage), unique per deployment so a retained group never blocks a new stack.
    const domainLogGroup = (id: string, suffix: string) =>
      new logs.LogGroup(this, id, {
        logGroupName: serviceLogGroupName(this, SERVICE_LOG_PREFIXES.openSearch, suffix),
        retention: logRetention,
        removalPolicy,
      });
    const domainLogGroups = {
      slowSearch: domainLogGroup('DomainSlowSearchLogs', 'slow-search'),
      slowIndex: domainLogGroup('DomainSlowIndexLogs', 'slow-index'),
      app: domainLogGroup('DomainAppLogs', 'application'),
      audit: domainLogGroup('DomainAuditLogs', 'audit'),
    };
    const domain = new opensearch.Domain(this, 'AuditDomain', {
      version: parseEngineVersion(os.engineVersion),
      vpc,
      vpcSubnets: [{ subnets: domainSubnets }],
      securityGroups: [props.openSearchSecurityGroup],
      capacity: {
        dataNodes: os.dataNodes,
        dataNodeInstanceType: os.dataNodeInstanceType,
        multiAzWithStandbyEnabled: false,
        ...(os.masterNodes > 0
          ? { masterNodes: os.masterNodes, masterNodeInstanceType: os.masterNodeInstanceType ?? 'm6g.large.search' }
          : {}),
      },
      ebs: { enabled: true, volumeSize: os.volumeSizeGb, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      zoneAwareness: zoneAware ? { enabled: true, availabilityZoneCount: azCount } : { enabled: false },
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
      nodeToNodeEncryption: true,
      encryptionAtRest: { enabled: true, kmsKey: key },
      fineGrainedAccessControl: { masterUserArn: setupRole.roleArn },
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup: domainLogGroups.slowSearch,
        slowIndexLogEnabled: true,
        slowIndexLogGroup: domainLogGroups.slowIndex,
        appLogEnabled: true,
        appLogGroup: domainLogGroups.app,
        auditLogEnabled: true,
        auditLogGroup: domainLogGroups.audit,
      },
      suppressLogsResourcePolicy: true,
      offPeakWindowEnabled: true,
      enableAutoSoftwareUpdate: true,
      removalPolicy,
    });
    domain.node.addDependency(props.logDeliveryPolicyReady, props.serviceLinkedRoleReady);
    // IAM decides who may talk to the domain at all; FGAC roles (set up below) decide what they may do.
    domain.addAccessPolicies(
      new iam.PolicyStatement({
        sid: 'NamedRolesOnly',
        principals: [
          new iam.ArnPrincipal(setupRole.roleArn),
          new iam.ArnPrincipal(firehoseRole.roleArn),
          ...(adminRoleArn ? [new iam.ArnPrincipal(adminRoleArn)] : []),
        ],
        actions: ['es:ESHttp*'],
        resources: [domain.domainArn, `${domain.domainArn}/*`],
      }),
    );
    setupRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ConfigureAuditDomain',
        actions: ['es:ESHttpGet', 'es:ESHttpPut', 'es:ESHttpPost', 'es:ESHttpPatch'],
        resources: [`${domain.domainArn}/*`],
      }),
    );
    this.domain = domain;
    this.domainEndpoint = domain.domainEndpoint;

    const setupProvider = new cr.Provider(this, 'OpenSearchSetupProvider', {
      onEventHandler: setupFn,
      logGroup: new logs.LogGroup(this, 'OpenSearchSetupProviderLogs', { retention: logRetention, removalPolicy }),
    });
    const setup = new CustomResource(this, 'OpenSearchSetup', {
      serviceToken: setupProvider.serviceToken,
      resourceType: 'Custom::OpenSearchAuditSetup',
      properties: {
        Endpoint: domain.domainEndpoint,
        IndexPattern: `${AUDIT_INDEX_PREFIX}*`,
        RetentionDays: os.indexRetentionDays,
        // A replica needs a second node; on one node it would leave every index yellow.
        Replicas: Math.min(1, os.dataNodes - 1),
        FirehoseRoleArn: firehoseRole.roleArn,
        ...(adminRoleArn ? { AdminRoleArn: adminRoleArn } : {}),
      },
    });
    // The access policy is applied after the domain exists; the setup's signed calls need it.
    setup.node.addDependency(domain);

    // S3 backup of what OpenSearch refuses, with its own access log bucket.
    const accessLogs = new s3.Bucket(this, 'DeliveryBackupAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // server access logging cannot write to SSE-KMS targets
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [
        { expiration: Duration.days(config.storage.accessLogExpirationDays) },
        { noncurrentVersionExpiration: Duration.days(1) },
      ],
      removalPolicy,
      autoDeleteObjects: disposable,
    });
    const backupBucket = new s3.Bucket(this, 'DeliveryBackup', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'delivery-backup/',
      lifecycleRules: [
        {
          expiration: Duration.days(config.logRetentionDays),
          noncurrentVersionExpiration: Duration.days(config.storage.noncurrentVersionExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(config.storage.abortIncompleteUploadDays),
        },
      ],
      removalPolicy,
      autoDeleteObjects: disposable,
    });
    this.backupBucket = backupBucket;

    const firehoseLogs = new logs.LogGroup(this, 'FirehoseDeliveryLogs', { retention: logRetention, removalPolicy });
    firehoseLogs.grantWrite(firehoseRole);
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteBackup',
        actions: [
          's3:AbortMultipartUpload',
          's3:GetBucketLocation',
          's3:GetObject',
          's3:ListBucket',
          's3:ListBucketMultipartUploads',
          's3:PutObject',
        ],
        resources: [backupBucket.bucketArn, backupBucket.arnForObjects('*')],
      }),
    );
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptBackup',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${this.region}.amazonaws.com` } },
      }),
    );
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeDomain',
        actions: ['es:DescribeDomain', 'es:DescribeDomains', 'es:DescribeDomainConfig'],
        resources: [domain.domainArn, `${domain.domainArn}/*`],
      }),
    );
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'IndexDocuments',
        actions: ['es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpGet'],
        resources: [`${domain.domainArn}/*`],
      }),
    );
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'VpcDeliveryNetworkInterfaces',
        actions: [
          'ec2:DescribeVpcs',
          'ec2:DescribeVpcAttribute',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeNetworkInterfaces',
          'ec2:CreateNetworkInterface',
          'ec2:CreateNetworkInterfacePermission',
          'ec2:DeleteNetworkInterface',
        ],
        resources: ['*'],
      }),
    );

    const logTransform = new MigrationFunction(this, 'AuditLogTransform', {
      handlerName: 'opensearch-setup/log-transform',
      description: 'Firehose processor: CloudWatch Logs subscription records into OpenSearch documents',
      logRetention,
      logRemovalPolicy: removalPolicy,
      timeout: Duration.minutes(1),
      memorySize: 512,
      environment: { POWERTOOLS_SERVICE_NAME: 'audit-log-transform' },
    });
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeLogTransform',
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [logTransform.functionArn],
      }),
    );

    const streamOptions = {
      domain,
      role: firehoseRole,
      key,
      backupBucket,
      logGroup: firehoseLogs,
      // The AZs of the domain: a stream interface in an AZ without a node adds an hourly charge
      // per AZ and no availability (a one-node domain is down with its AZ anyway).
      subnets: domainSubnets,
      securityGroup: firehoseSg,
      removalPolicy,
    };
    this.eventsStream = this.deliveryStream('AuditEventsStream', { ...streamOptions, indexName: AUDIT_EVENTS_INDEX });
    this.logsStream = this.deliveryStream('AuditLogsStream', {
      ...streamOptions,
      indexName: AUDIT_LOGS_INDEX,
      processing: {
        enabled: true,
        processors: [
          {
            type: 'Lambda',
            parameters: [
              { parameterName: 'LambdaArn', parameterValue: logTransform.functionArn },
              // Decompressed log JSON is several times its gzip size; keep the response under Lambda's 6 MB.
              { parameterName: 'BufferSizeInMBs', parameterValue: '0.5' },
              { parameterName: 'BufferIntervalInSeconds', parameterValue: '60' },
            ],
          },
        ],
      },
    });
    for (const stream of [this.eventsStream, this.logsStream]) {
      // Deliveries start as soon as a stream exists; the writer role mapping must be there first.
      stream.node.addDependency(setup);
    }
    this.eventsDeliveryStreamName = this.eventsStream.ref;
    this.logsDeliveryStreamName = this.logsStream.ref;

    this.eventsPutRole = new iam.Role(this, 'EventBridgeToFirehoseRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'EventBridge rules deliver pipeline events to the audit-events stream',
    });
    this.logsPutRole = new iam.Role(this, 'CloudWatchLogsToFirehoseRole', {
      assumedBy: new iam.ServicePrincipal('logs.amazonaws.com', {
        conditions: { ArnLike: { 'aws:SourceArn': this.formatArn({ service: 'logs', resource: '*' }) } },
      }),
      description: 'CloudWatch Logs subscription filters deliver pipeline logs to the audit-logs stream',
    });
    for (const [role, stream] of [
      [this.eventsPutRole, this.eventsStream],
      [this.logsPutRole, this.logsStream],
    ] as const) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
          resources: [stream.attrArn],
        }),
      );
    }

    new CfnOutput(this, 'OpenSearchEndpoint', {
      value: domain.domainEndpoint,
      description: 'Audit domain endpoint (inside the VPC)',
    });
    new CfnOutput(this, 'AuditBackupBucketName', {
      value: backupBucket.bucketName,
      description: 'Documents OpenSearch refused',
    });

    this.acknowledgeFindings({
      os,
      setupRole,
      firehoseRole,
      domain,
      backupBucket,
      setupProvider,
      setupFunction: setupFn,
    });
  }

  /**
   * Target for EventBridge rules in any stack of this stage: the event goes to the audit-events
   * stream; EventBridge retries for 24 hours and then parks it in a dead-letter queue created in
   * the rule's own stack (a queue policy here would make this stack depend on the rule's).
   */
  public auditEventTarget(): events.IRuleTarget {
    return new AuditEventTarget(this.eventsStream, this.eventsPutRole);
  }

  /**
   * The dead-letter queue that `auditEventTarget()` uses for rules in `scope`'s stack (created on
   * first use), for a depth alarm.
   */
  public auditEventDeadLetterQueue(scope: IConstruct): sqs.IQueue {
    return auditEventDlq(scope);
  }

  /**
   * Subscribes a log group (in any stack of the same stage and environment) to the audit-logs
   * stream. The subscription filter is created in the log group's own stack. Do not subscribe this
   * stack's own log groups: the transform's and Firehose's logs would feed back into themselves.
   */
  public subscribeLogGroup(logGroup: logs.ILogGroup, id: string): void {
    const destination: logs.ILogSubscriptionDestination = {
      bind: () => ({ arn: this.logsStream.attrArn, role: this.logsPutRole }),
    };
    const filter = new logs.SubscriptionFilter(logGroup, id, {
      logGroup,
      destination,
      filterPattern: logs.FilterPattern.allEvents(),
    });
    // CloudWatch Logs test-writes to the stream on creation: the role's policy must exist by then.
    filter.node.addDependency(this.logsPutRole);
  }

  private deliveryStream(
    id: string,
    o: {
      indexName: string;
      domain: opensearch.Domain;
      role: iam.Role;
      key: kms.IKey;
      backupBucket: s3.IBucket;
      logGroup: logs.LogGroup;
      subnets: readonly ec2.ISubnet[];
      securityGroup: ec2.ISecurityGroup;
      removalPolicy: RemovalPolicy;
      processing?: firehose.CfnDeliveryStream.ProcessingConfigurationProperty;
    },
  ): firehose.CfnDeliveryStream {
    const logStream = (suffix: string) =>
      new logs.LogStream(this, `${id}${suffix}LogStream`, {
        logGroup: o.logGroup,
        logStreamName: `${o.indexName}-${suffix.toLowerCase()}`,
        removalPolicy: o.removalPolicy,
      });
    const delivery = logStream('Delivery');
    const backup = logStream('Backup');
    const stream = new firehose.CfnDeliveryStream(this, id, {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: o.key.keyArn },
      amazonopensearchserviceDestinationConfiguration: {
        domainArn: o.domain.domainArn,
        indexName: o.indexName,
        indexRotationPeriod: 'OneDay',
        roleArn: o.role.roleArn,
        retryOptions: { durationInSeconds: DELIVERY_RETRY.toSeconds() },
        bufferingHints: { intervalInSeconds: 60, sizeInMBs: 5 },
        documentIdOptions: { defaultDocumentIdFormat: 'FIREHOSE_DEFAULT' },
        s3BackupMode: 'FailedDocumentsOnly',
        s3Configuration: {
          bucketArn: o.backupBucket.bucketArn,
          roleArn: o.role.roleArn,
          prefix: `${o.indexName}/`,
          errorOutputPrefix: `${o.indexName}-errors/`,
          compressionFormat: 'GZIP',
          bufferingHints: { intervalInSeconds: 300, sizeInMBs: 5 },
          encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: o.key.keyArn } },
          cloudWatchLoggingOptions: {
            enabled: true,
            logGroupName: o.logGroup.logGroupName,
            logStreamName: backup.logStreamName,
          },
        },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: o.logGroup.logGroupName,
          logStreamName: delivery.logStreamName,
        },
        vpcConfiguration: {
          roleArn: o.role.roleArn,
          subnetIds: o.subnets.map((s) => s.subnetId),
          securityGroupIds: [o.securityGroup.securityGroupId],
        },
        ...(o.processing ? { processingConfiguration: o.processing } : {}),
      },
    });
    // The role's policy (ENI permissions included) must outlive the stream when it is deleted.
    stream.node.addDependency(o.role);
    return stream;
  }

  private acknowledgeFindings(c: {
    os: EnvironmentConfig['openSearch'];
    setupRole: iam.IRole;
    firehoseRole: iam.Role;
    domain: opensearch.Domain;
    backupBucket: s3.Bucket;
    setupProvider: cr.Provider;
    setupFunction: MigrationFunction;
  }): void {
    // Finding ids name resources by logical id, e.g. `Resource::<DeliveryBackupD609CAB2.Arn>/*`.
    const ref = (construct: IConstruct) =>
      this.resolve((construct.node.defaultChild as CfnElement).logicalId) as string;
    const domainArn = `<${ref(c.domain)}.Arn>`;
    const cfnDomain = c.domain.node.defaultChild as IConstruct;

    if (c.os.masterNodes === 0) {
      Validations.of(cfnDomain).acknowledge({
        id: 'AwsSolutions-OS4',
        reason:
          'Sized per config (the seeds: 2 data nodes in prod, 1 in dev). The domain holds a copy of the audit trail (the events and log groups stay at their source) and dedicated masters are one config switch away (openSearch.masterNodes: 3).',
      });
    }
    Validations.of(cfnDomain).acknowledge({
      id: 'AwsSolutions-OS3',
      reason:
        'VPC domain: AWS does not apply IP-based access policies to VPC domains; the network boundary is the security group, and the access policy names IAM roles (es:ESHttp*), never an anonymous principal.',
    });
    if (c.os.dataNodes < 2) {
      Validations.of(cfnDomain).acknowledge({
        id: 'AwsSolutions-OS7',
        reason:
          'Single-node domain sized for cost in this environment (config.openSearch.dataNodes = 1); zone awareness needs two nodes.',
      });
    }
    Validations.of(c.setupRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'A Lambda function in a VPC manages its ENIs with EC2 actions that support no resource-level permissions (the set AWSLambdaVPCAccessExecutionRole grants).',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${domainArn}/*]`,
        reason:
          'The setup configures the domain through its REST API; paths under this one domain are the resource (es:ESHttp* resources are domain/path).',
      },
    );
    Validations.of(c.firehoseRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Firehose VPC delivery creates and describes ENIs; those EC2 actions support no resource-level permissions (Firehose developer guide, VPC destination role).',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${domainArn}/*]`,
        reason:
          'Firehose bulk-indexes into daily-rotated indices of this one domain; the index names are not known in advance.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${ref(c.backupBucket)}.Arn>/*]`,
        reason: 'Firehose writes backup objects under generated keys in this one bucket.',
      },
    );

    // CDK applies the domain access policy through an AwsCustomResource (the policy names the
    // domain's own ARN, which CloudFormation cannot reference in the domain itself).
    const accessPolicyProvider = this.node
      .tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON)
      ?.node.tryFindChild('ServiceRole');
    if (accessPolicyProvider) {
      Validations.of(accessPolicyProvider).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            "CDK's AwsCustomResource provider (applies the domain access policy); the managed policy only lets it write its own logs.",
        },
        {
          id: 'AwsSolutions-IAM5[Action::kms:List*]',
          reason:
            'CDK grants the access-policy updater kms:List*/Describe* on the domain key (only that key) so UpdateDomainConfig works on a CMK-encrypted domain.',
        },
        {
          id: 'AwsSolutions-IAM5[Action::kms:Describe*]',
          reason:
            'CDK grants the access-policy updater kms:List*/Describe* on the domain key (only that key) so UpdateDomainConfig works on a CMK-encrypted domain.',
        },
      );
    }
    const frameworkRole = c.setupProvider.node.findChild('framework-onEvent').node.findChild('ServiceRole');
    Validations.of(frameworkRole).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'Custom resource provider framework function; the managed policy only lets it write its own logs.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${ref(c.setupFunction)}.Arn>:*]`,
        reason:
          'The provider framework may invoke any version of the setup function it fronts (and only that function).',
      },
    );
  }
}

/** EventBridge → audit-events stream, with retries and a dead-letter queue in the rule's stack. */
class AuditEventTarget implements events.IRuleTarget {
  constructor(
    private readonly stream: firehose.CfnDeliveryStream,
    private readonly role: iam.IRole,
  ) {}

  public bind(rule: events.IRuleRef, _id?: string): events.RuleTargetConfig {
    const dlq = auditEventDlq(rule);
    dlq.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `AllowRule${rule.node.addr}`,
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [dlq.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleRef.ruleArn } },
      }),
    );
    return {
      arn: this.stream.attrArn,
      role: this.role,
      deadLetterConfig: { arn: dlq.queueArn },
      // EventBridge's maximums: a stream that is briefly unavailable loses nothing.
      retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: Duration.hours(24).toSeconds() },
      targetResource: this.stream,
    };
  }
}

const AUDIT_EVENT_DLQ_ID = 'AuditEventTargetDlq';

function auditEventDlq(scope: IConstruct): sqs.IQueue {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(AUDIT_EVENT_DLQ_ID);
  if (existing) return existing as sqs.Queue;
  const queue = new sqs.Queue(stack, AUDIT_EVENT_DLQ_ID, {
    retentionPeriod: Duration.days(14),
    // SQS-managed keys: EventBridge cannot use a customer key without a key policy naming it.
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is the dead-letter queue of EventBridge targets; it has no further queue to redrive to.',
  });
  return queue;
}
