import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** Encrypts the queue; whoever sends to it needs `kms:GenerateDataKey` and `kms:Decrypt` on it. */
  readonly key: kms.IKey;
  /** What the queue keeps, for its nag acknowledgement, e.g. `the object events queue`. */
  readonly deadLetterOf: string;
  /** What a stack deletion does to the queue and the messages it holds. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A queue that is itself a dead-letter queue: KMS-encrypted, TLS only, messages kept 14 days (the SQS maximum).
 * It has no dead-letter queue of its own; its depth is alarmed in MonitoringStack instead.
 */
export class DeadLetterQueue extends sqs.Queue {
  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id, {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This is the dead-letter queue of ${props.deadLetterOf}; its depth is alarmed (MonitoringStack).`,
    });
  }
}
