import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct, IDependable } from 'constructs';
import { MigrationFunction } from '../migration-function';
import { AuditEventTarget } from './audit-event-target';
import { AUDIT_EVENTS_INDEX, AUDIT_LOGS_INDEX, findingRef } from './audit-domain';

/** How long Firehose retries a refused bulk request before the documents go to the S3 backup. */
export const DELIVERY_RETRY = Duration.minutes(5);

/** Lifecycle of the backup bucket and its access-log bucket. */
export interface AuditBackupLifecycle {
  /** Backed-up documents expire after this. @default Duration.days(30) */
  readonly expiration?: Duration;
  /** Noncurrent versions expire after this. @default Duration.days(30) */
  readonly noncurrentVersionExpiration?: Duration;
  /** Incomplete multipart uploads are aborted after this. @default Duration.days(7) */
  readonly abortIncompleteUploadAfter?: Duration;
  /** Server access logs of the backup bucket expire after this. @default Duration.days(90) */
  readonly accessLogExpiration?: Duration;
}

export interface AuditDeliveryProps {
  /** The domain the streams index into. */
  readonly domain: opensearch.IDomain;
  /** VPC of the stream ENIs. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the stream ENIs: the domain's (`AuditDomain.subnets`). An ENI in an AZ without a node
   * adds an hourly charge per AZ and no availability.
   */
  readonly subnets: readonly ec2.ISubnet[];
  /** Encrypts the streams and the backup bucket. */
  readonly encryptionKey: kms.IKey;
  /** Retention of the Firehose error logs and the log transform's logs. */
  readonly logRetention: logs.RetentionDays;
  /** Lifecycle of the backup and its access logs. @default - the defaults of {@link AuditBackupLifecycle} */
  readonly backupLifecycle?: AuditBackupLifecycle;
  /** Removal of the buckets and log groups; DESTROY also empties the buckets. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Streams are created after this: deliveries start as soon as a stream exists, so the writer role
   * mapping (`AuditDomain.setup`) must be in place first. @default - none
   */
  readonly startAfter?: IDependable;
}

/**
 * Two Firehose streams into the audit domain, inside the VPC.
 *
 * In: `audit-events` takes EventBridge events ({@link eventTarget}), `audit-logs` takes CloudWatch Logs
 * subscription records ({@link subscribeLogGroup}), decoded by the `LogTransform` function
 * (`lambda/opensearch-setup/log-transform`). Out: daily indices `audit-events-YYYY-MM-DD` and
 * `audit-logs-YYYY-MM-DD`, written by {@link role} (give it to `AuditDomain.setWriter`). A refused bulk
 * request is retried for {@link DELIVERY_RETRY}; then the documents go to {@link backupBucket} (KMS,
 * versioned, access-logged, expiring), as do records the transform cannot read.
 */
export class AuditDelivery extends Construct {
  /** The Firehose delivery role: the domain's writer, the backup's writer. */
  public readonly role: iam.Role;
  /** Security group of the stream ENIs; it needs egress to the domain (`AuditDomain.allowHttpsFrom`). */
  public readonly securityGroup: ec2.SecurityGroup;
  /** Holds documents the domain refused and log records the transform could not read. */
  public readonly backupBucket: s3.Bucket;
  /** Stream of EventBridge events; its name is the dimension of the AWS/Firehose metrics. */
  public readonly eventsStream: firehose.CfnDeliveryStream;
  /** Stream of CloudWatch Logs subscriptions. */
  public readonly logsStream: firehose.CfnDeliveryStream;
  /** Decodes subscription records for {@link logsStream} (Firehose invokes it; its DLQ is for a depth alarm). */
  public readonly logTransform: MigrationFunction;
  /** Removal of what this construct keeps (buckets, log groups, the event target's dead-letter queue). */
  private readonly removalPolicy: RemovalPolicy;
  /** Role EventBridge assumes to put events into {@link eventsStream}. */
  public readonly eventsPutRole: iam.Role;
  /** Role CloudWatch Logs assumes to put records into {@link logsStream}. */
  public readonly logsPutRole: iam.Role;

  constructor(scope: Construct, id: string, props: AuditDeliveryProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { encryptionKey: key, logRetention } = props;
    const removalPolicy = (this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN);
    const lifecycle = props.backupLifecycle ?? {};
    const disposable = removalPolicy === RemovalPolicy.DESTROY;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Firehose ENIs delivering the audit trail to OpenSearch',
      allowAllOutbound: false,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Amazon Data Firehose delivery of the audit trail into OpenSearch and the S3 backup',
    });

    const accessLogs = new s3.Bucket(this, 'BackupAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // server access logging cannot write to SSE-KMS targets
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      lifecycleRules: [
        { expiration: lifecycle.accessLogExpiration ?? Duration.days(90) },
        { noncurrentVersionExpiration: Duration.days(1) },
      ],
      removalPolicy,
      autoDeleteObjects: disposable,
    });
    this.backupBucket = new s3.Bucket(this, 'Backup', {
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
          expiration: lifecycle.expiration ?? Duration.days(30),
          noncurrentVersionExpiration: lifecycle.noncurrentVersionExpiration ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: lifecycle.abortIncompleteUploadAfter ?? Duration.days(7),
        },
      ],
      removalPolicy,
      autoDeleteObjects: disposable,
    });

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logRetention, removalPolicy });
    const logTransform = (this.logTransform = new MigrationFunction(this, 'LogTransform', {
      handlerName: 'opensearch-setup/log-transform',
      description: 'Firehose processor: CloudWatch Logs subscription records into OpenSearch documents',
      logRetention,
      logRemovalPolicy: removalPolicy,
      timeout: Duration.minutes(1),
      memorySize: 512,
      environment: { POWERTOOLS_SERVICE_NAME: 'audit-log-transform' },
    }));
    this.grantDelivery(logGroup, key, logTransform);

    const streamOf = (streamId: string, indexName: string, processing?: ProcessingConfiguration) =>
      this.deliveryStream(streamId, { ...props, removalPolicy, logGroup, indexName, processing });
    this.eventsStream = streamOf('EventsStream', AUDIT_EVENTS_INDEX);
    this.logsStream = streamOf('LogsStream', AUDIT_LOGS_INDEX, {
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
    });

    this.eventsPutRole = this.putRole('EventBridgeToFirehoseRole', this.eventsStream, {
      principal: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge rules deliver pipeline events to the audit-events stream',
    });
    this.logsPutRole = this.putRole('CloudWatchLogsToFirehoseRole', this.logsStream, {
      principal: new iam.ServicePrincipal('logs.amazonaws.com', {
        conditions: { ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'logs', resource: '*' }) } },
      }),
      description: 'CloudWatch Logs subscription filters deliver pipeline logs to the audit-logs stream',
    });

    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Firehose VPC delivery creates and describes ENIs; those EC2 actions support no resource-level permissions (Firehose developer guide, VPC destination role).',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${findingRef(this.backupBucket)}.Arn>/*]`,
        reason: 'Firehose writes backup objects under generated keys in this one bucket.',
      },
    );
  }

  /**
   * Target for EventBridge rules in any stack of this stage: the event goes to the audit-events stream;
   * EventBridge retries for 24 hours and then parks it in a dead-letter queue in the rule's own stack.
   */
  /** The dead-letter queue {@link eventTarget} uses for rules in `scope`'s stack (created on first use), for a depth alarm. */
  public eventDeadLetterQueue(scope: IConstruct): sqs.IQueue {
    return AuditEventTarget.deadLetterQueue(scope, this.removalPolicy);
  }

  public eventTarget(): events.IRuleTarget {
    return new AuditEventTarget({
      stream: this.eventsStream,
      role: this.eventsPutRole,
      deadLetterRemovalPolicy: this.removalPolicy,
    });
  }

  /**
   * Subscribes a log group (in any stack of the same stage and environment) to the audit-logs stream.
   * The subscription filter is created in the log group's own stack. Do not subscribe this construct's
   * own log groups: the transform's and Firehose's logs would feed back into themselves.
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

  /** What Firehose needs besides the domain (which `AuditDomain.setWriter` grants). */
  private grantDelivery(logGroup: logs.LogGroup, key: kms.IKey, logTransform: MigrationFunction): void {
    const role = this.role;
    const bucket = this.backupBucket;
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(
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
        resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptBackup',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    role.addToPrincipalPolicy(
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
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeLogTransform',
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [logTransform.functionArn],
      }),
    );
  }

  private putRole(
    id: string,
    stream: firehose.CfnDeliveryStream,
    o: { principal: iam.IPrincipal; description: string },
  ): iam.Role {
    const role = new iam.Role(this, id, { assumedBy: o.principal, description: o.description });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [stream.attrArn],
      }),
    );
    return role;
  }

  private deliveryStream(
    id: string,
    o: AuditDeliveryProps & {
      indexName: string;
      logGroup: logs.LogGroup;
      removalPolicy: RemovalPolicy;
      processing: ProcessingConfiguration | undefined;
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
    const keyArn = o.encryptionKey.keyArn;
    const roleArn = this.role.roleArn;
    const stream = new firehose.CfnDeliveryStream(this, id, {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn },
      amazonopensearchserviceDestinationConfiguration: {
        domainArn: o.domain.domainArn,
        indexName: o.indexName,
        indexRotationPeriod: 'OneDay',
        roleArn,
        retryOptions: { durationInSeconds: DELIVERY_RETRY.toSeconds() },
        bufferingHints: { intervalInSeconds: 60, sizeInMBs: 5 },
        documentIdOptions: { defaultDocumentIdFormat: 'FIREHOSE_DEFAULT' },
        s3BackupMode: 'FailedDocumentsOnly',
        s3Configuration: {
          bucketArn: this.backupBucket.bucketArn,
          roleArn,
          prefix: `${o.indexName}/`,
          errorOutputPrefix: `${o.indexName}-errors/`,
          compressionFormat: 'GZIP',
          bufferingHints: { intervalInSeconds: 300, sizeInMBs: 5 },
          encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: keyArn } },
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
          roleArn,
          subnetIds: o.subnets.map((s) => s.subnetId),
          securityGroupIds: [this.securityGroup.securityGroupId],
        },
        ...(o.processing ? { processingConfiguration: o.processing } : {}),
      },
    });
    // The role's policy (ENI permissions included) must outlive the stream when it is deleted.
    stream.node.addDependency(this.role);
    // Deliveries start as soon as a stream exists; the writer role mapping must be there first.
    if (o.startAfter) stream.node.addDependency(o.startAfter);
    return stream;
  }
}

type ProcessingConfiguration = firehose.CfnDeliveryStream.ProcessingConfigurationProperty;
