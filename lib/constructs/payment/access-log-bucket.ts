import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PaymentLogConfig } from '../../config/payment-config';

/**
 * A bucket for S3 server access logs and ALB access logs: SSE-S3 (neither delivery accepts SSE-KMS),
 * TLS only, owner-enforced, versioned, logs expiring after `expirationDays`.
 */
export function accessLogBucket(
  scope: Construct,
  id: string,
  props: { readonly expirationDays: number; readonly removalPolicy: RemovalPolicy },
): s3.Bucket {
  return new s3.Bucket(scope, id, {
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
