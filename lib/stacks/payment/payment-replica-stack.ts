import { Aws, CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  accessLogBucket,
  transactionLogBucket,
  transactionLogLifecycle,
} from '../../constructs/payment/access-log-bucket';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from '../../constructs/key-policy';
import { PaymentStackProps, paymentRemoval } from './payment-stack-props';
import { PAYMENT_COMPLIANCE_PACKS } from '../../compliance/payment-acknowledgements';

/**
 * Physical names of the replica bucket and its key alias. They are derived from the stage prefix and
 * the account instead of being passed as cross-region references: CloudFormation exports do not
 * cross regions, and CDK's cross-region references use SSM parameters and custom resources in both
 * regions that block stack updates when a value changes. A deterministic name needs neither.
 */
export function replicaNames(namePrefix: string): { bucketName: string; keyAlias: string } {
  return {
    bucketName: `${namePrefix}-log-replica-${Aws.ACCOUNT_ID}`,
    keyAlias: `alias/${namePrefix}-log-replica`,
  };
}

/**
 * The replica of the source environment's transaction logs, in the second region: a versioned bucket
 * encrypted with a key of that region, with its own access-log bucket. The source stack's replication
 * rule writes here by name.
 */
export class PaymentReplicaStack extends Stack {
  public readonly replicaKey: kms.Key;
  public readonly replicaBucket: s3.Bucket;
  public readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PaymentStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = paymentRemoval(config);
    const names = replicaNames(props.namePrefix);

    this.replicaKey = new kms.Key(this, 'ReplicaKey', {
      description: `${props.namePrefix}: replica of the source transaction logs`,
      alias: names.keyAlias,
      enableKeyRotation: true,
      removalPolicy,
    });
    denyGrantsExceptForAwsServices(this.replicaKey);

    this.accessLogBucket = accessLogBucket(this, 'AccessLogBucket', {
      expirationDays: config.logs.accessLogExpirationDays,
      removalPolicy,
      deliveries: 'S3 server access logs',
      notReplicatedBecause: 'Access logs of the replica region stay in that region.',
    });
    this.replicaBucket = transactionLogBucket(this, 'ReplicaBucket', {
      bucketName: names.bucketName,
      key: this.replicaKey,
      accessLogBucket: this.accessLogBucket,
      accessLogPrefix: 'replica-bucket/',
      lifecycleRules: transactionLogLifecycle(config.logs, false),
      removalPolicy,
    });

    const packs = PAYMENT_COMPLIANCE_PACKS;
    Validations.of(this.replicaBucket).acknowledge(
      ...packs.map((pack) => ({
        id: `${pack}-S3BucketReplicationEnabled`,
        reason: 'This bucket is itself the cross-region replica of the source transaction logs.',
      })),
    );

    new CfnOutput(this, 'ReplicaBucketName', { value: this.replicaBucket.bucketName });
  }
}
