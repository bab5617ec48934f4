import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PaymentLogConfig } from '../../config/payment-config';
import { PAYMENT_COMPLIANCE_PACKS } from '../../compliance/payment-acknowledgements';

/** Props of {@link accessLogBucket}. */
export interface AccessLogBucketProps {
  /** Days an access log is kept. */
  readonly expirationDays: number;
  readonly removalPolicy: RemovalPolicy;
  /** The log deliveries that write here, named in the SSE-S3 acknowledgement (e.g. `S3 server access logs`). */
  readonly deliveries: string;
  /** Why this region's access logs are not replicated, for the replication acknowledgement. */
  readonly notReplicatedBecause: string;
}

/**
 * A bucket for S3 server access logs and ALB access logs: SSE-S3 (neither delivery accepts SSE-KMS),
 * TLS only, owner-enforced, versioned, logs expiring after `expirationDays`. It acknowledges, on
 * itself only, the findings every access-log target has (no logging into itself, no SSE-KMS).
 */
export function accessLogBucket(scope: Construct, id: string, props: AccessLogBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [
      { id: 'expire-access-logs', expiration: Duration.days(props.expirationDays) },
      { id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(1) },
    ],
    removalPolicy: props.removalPolicy,
    autoDeleteObjects: props.removalPolicy === RemovalPolicy.DESTROY,
  });
  Validations.of(bucket).acknowledge(
    { id: 'AwsSolutions-S1', reason: 'This is the access-log target bucket; logging it into itself would loop.' },
    ...PAYMENT_COMPLIANCE_PACKS.flatMap((pack) => [
      { id: `${pack}-S3BucketLoggingEnabled`, reason: 'Access-log target bucket; logging it into itself would loop.' },
      {
        id: `${pack}-S3DefaultEncryptionKMS`,
        reason: `${props.deliveries} can only be delivered to SSE-S3 buckets, not SSE-KMS.`,
      },
      { id: `${pack}-S3BucketReplicationEnabled`, reason: props.notReplicatedBecause },
    ]),
  );
  return bucket;
}

/**
 * Lifecycle of a transaction-log bucket (the source's and its replica): archive to Glacier Instant
 * Retrieval, expire noncurrent versions; `abortUploads` also clears incomplete multipart uploads
 * (the replica receives no uploads of its own).
 */
export function transactionLogLifecycle(logs: PaymentLogConfig, abortUploads: boolean): s3.LifecycleRule[] {
  return [
    {
      id: 'archive-transaction-logs',
      transitions: [
        {
          storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
          transitionAfter: Duration.days(logs.transitionToGlacierDays),
        },
      ],
    },
    {
      id: 'expire-noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(logs.noncurrentVersionExpirationDays),
    },
    ...(abortUploads
      ? [{ id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) }]
      : []),
  ];
}

/**
 * A transaction-log bucket (the source's and its cross-region replica): KMS with a bucket key, TLS 1.2
 * only, owner-enforced, versioned (replication needs versioning on both sides), access-logged into
 * `accessLogBucket`; DESTROY also empties it.
 */
export function transactionLogBucket(
  scope: Construct,
  id: string,
  props: {
    readonly key: kms.IKey;
    readonly accessLogBucket: s3.IBucket;
    readonly accessLogPrefix: string;
    readonly lifecycleRules: s3.LifecycleRule[];
    readonly removalPolicy: RemovalPolicy;
    /** @default a generated name */
    readonly bucketName?: string;
  },
): s3.Bucket {
  return new s3.Bucket(scope, id, {
    ...(props.bucketName ? { bucketName: props.bucketName } : {}),
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: props.key,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: props.accessLogBucket,
    serverAccessLogsPrefix: props.accessLogPrefix,
    lifecycleRules: props.lifecycleRules,
    removalPolicy: props.removalPolicy,
    autoDeleteObjects: props.removalPolicy === RemovalPolicy.DESTROY,
  });
}
