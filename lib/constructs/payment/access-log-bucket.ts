import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

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
