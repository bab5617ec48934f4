import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MigrationStackProps, statefulRemoval } from './migration-stack-props';
import { allowCloudWatchLogs, denyGrantsExceptForAwsServices } from '../constructs/key-policy';

/** The four areas of the data bucket; every hop reads and writes by these prefixes only. */
export const DATA_PREFIXES = {
  /** DataSync writes here; every object created here is validated. */
  incoming: 'incoming/',
  /** Objects that passed validation, same path below the prefix. */
  validated: 'validated/',
  /** Objects that failed validation or could not be processed. */
  quarantine: 'quarantine/',
  /** One JSON validation report per object. */
  reports: 'reports/',
} as const;

export type StorageStackProps = MigrationStackProps;

/**
 * The data bucket and the key that encrypts it (and the Glue job's logs and bookmarks). The bucket
 * sends every object event to EventBridge, which is how the data path starts.
 */
export class StorageStack extends Stack {
  public readonly dataKey: kms.Key;
  public readonly dataBucket: s3.Bucket;
  public readonly accessLogBucket: s3.Bucket;
  public readonly dataBucketNameOutput: CfnOutput;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = statefulRemoval(config);
    const disposable = removalPolicy === RemovalPolicy.DESTROY;

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: 'Encrypts migration data, Glue logs and bookmarks',
      enableKeyRotation: true,
      removalPolicy,
    });
    denyGrantsExceptForAwsServices(this.dataKey);
    // Glue's security configuration encrypts its CloudWatch log groups with this key; the logs
    // service must be allowed to use it, scoped to log groups of this account and region.
    allowCloudWatchLogs(this.dataKey);

    // Server access log delivery supports SSE-S3 only, not SSE-KMS.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { expiration: Duration.days(config.storage.accessLogExpirationDays) },
        { noncurrentVersionExpiration: Duration.days(1) },
      ],
      removalPolicy,
      autoDeleteObjects: disposable,
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log target bucket; logging it into itself would loop.',
    });

    this.dataBucket = new s3.Bucket(this, 'DataBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      eventBridgeEnabled: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(config.storage.noncurrentVersionExpirationDays),
        },
        {
          id: 'abort-incomplete-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(config.storage.abortIncompleteUploadDays),
        },
      ],
      removalPolicy,
      autoDeleteObjects: disposable,
    });

    // eventBridgeEnabled is applied by aws-cdk-lib's bucket-notifications function.
    const notificationsFn = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notificationsFn) {
      Validations.of(notificationsFn).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'aws-cdk-lib function that turns on EventBridge notifications for the data bucket; basic execution policy for its own logs.',
      });
    }
    this.dataBucketNameOutput = new CfnOutput(this, 'DataBucketName', {
      value: this.dataBucket.bucketName,
      description: 'Data bucket',
    });
  }
}
