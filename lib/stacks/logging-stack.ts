import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct, IDependable } from 'constructs';
import { EnvironmentConfig } from '../config/environment-config';
import { AuditDelivery, AuditDomain } from '../constructs/audit';
import { denyGrantsExceptForAwsServices } from '../constructs/key-policy';

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

function retentionOf(days: number): logs.RetentionDays {
  if (!(Object.values(logs.RetentionDays) as unknown[]).includes(days)) {
    throw new Error(
      `logRetentionDays: ${days} is not a retention CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90, ...)`,
    );
  }
  return days as logs.RetentionDays;
}

/**
 * The audit trail: an OpenSearch domain in the isolated subnets ({@link AuditDomain}), fed by two
 * Firehose streams ({@link AuditDelivery}: EventBridge events into `audit-events-YYYY-MM-DD`,
 * CloudWatch Logs into `audit-logs-YYYY-MM-DD`) that retry for five minutes and back up refused
 * documents to an encrypted bucket. One key encrypts the domain, the streams and the backup.
 */
export class LoggingStack extends Stack {
  public readonly auditDomain: AuditDomain;
  public readonly delivery: AuditDelivery;
  public readonly domain: opensearch.IDomain;
  public readonly domainEndpoint: string;
  /** Holds documents the domain refused and log records the transform could not read. */
  public readonly backupBucket: s3.IBucket;
  /** Firehose stream of EventBridge events; its name is the dimension of the AWS/Firehose metrics. */
  public readonly eventsDeliveryStreamName: string;
  /** Firehose stream of CloudWatch Logs subscriptions. */
  public readonly logsDeliveryStreamName: string;

  constructor(scope: Construct, id: string, props: LoggingStackProps) {
    super(scope, id, props);
    const { config, vpc, removalPolicy } = props;
    const logRetention = retentionOf(config.logRetentionDays);

    const key = new kms.Key(this, 'AuditKey', {
      description: 'Encrypts the audit domain, its Firehose streams and their S3 backup',
      enableKeyRotation: true,
      removalPolicy,
    });
    denyGrantsExceptForAwsServices(key);

    this.auditDomain = new AuditDomain(this, 'AuditDomain', {
      vpc,
      securityGroup: props.openSearchSecurityGroup,
      encryptionKey: key,
      sizing: config.openSearch,
      logRetention,
      removalPolicy,
      serviceLinkedRoleReady: props.serviceLinkedRoleReady,
      logDeliveryPolicyReady: props.logDeliveryPolicyReady,
    });
    this.delivery = new AuditDelivery(this, 'Delivery', {
      domain: this.auditDomain.domain,
      vpc,
      subnets: this.auditDomain.subnets,
      encryptionKey: key,
      logRetention,
      backupLifecycle: {
        expiration: Duration.days(config.logRetentionDays),
        noncurrentVersionExpiration: Duration.days(config.storage.noncurrentVersionExpirationDays),
        abortIncompleteUploadAfter: Duration.days(config.storage.abortIncompleteUploadDays),
        accessLogExpiration: Duration.days(config.storage.accessLogExpirationDays),
      },
      removalPolicy,
      startAfter: this.auditDomain.setup,
    });
    this.auditDomain.setWriter(this.delivery.role);
    this.auditDomain.allowHttpsFrom(this.delivery.securityGroup, 'Firehose delivery');

    this.domain = this.auditDomain.domain;
    this.domainEndpoint = this.domain.domainEndpoint;
    this.backupBucket = this.delivery.backupBucket;
    this.eventsDeliveryStreamName = this.delivery.eventsStream.ref;
    this.logsDeliveryStreamName = this.delivery.logsStream.ref;

    new CfnOutput(this, 'OpenSearchEndpoint', {
      value: this.domainEndpoint,
      description: 'Audit domain endpoint (inside the VPC)',
    });
    new CfnOutput(this, 'AuditBackupBucketName', {
      value: this.backupBucket.bucketName,
      description: 'Documents OpenSearch refused',
    });
  }

  /**
   * Target for EventBridge rules in any stack of this stage: the event goes to the audit-events
   * stream; EventBridge retries for 24 hours and then parks it in a dead-letter queue created in
   * the rule's own stack (a queue policy here would make this stack depend on the rule's).
   */
  public auditEventTarget(): events.IRuleTarget {
    return this.delivery.eventTarget();
  }

  /** The dead-letter queue `auditEventTarget()` uses for rules in `scope`'s stack, for a depth alarm. */
  public auditEventDeadLetterQueue(scope: IConstruct): sqs.IQueue {
    return this.delivery.eventDeadLetterQueue(scope);
  }

  /**
   * Subscribes a log group (in any stack of the same stage and environment) to the audit-logs
   * stream, with the filter in the log group's own stack: that stack depends on this one, never the
   * reverse, which a filter created here would do for every stack whose logs it audits. Not for this
   * stack's own log groups.
   */
  public subscribeLogGroup(logGroup: logs.ILogGroup, id: string): void {
    this.delivery.subscribeLogGroup(logGroup, id);
  }
}
