import { ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REF } from '../../compliance/nag';

export interface LogReplicationProps {
  /** The versioned, KMS-encrypted source bucket, in this construct's stack. */
  readonly sourceBucket: s3.Bucket;
  readonly sourceKey: kms.IKey;
  /** Name of the versioned destination bucket in `destinationRegion` (same account). */
  readonly destinationBucketName: string;
  readonly destinationRegion: string;
  /** Alias (`alias/...`) of the destination bucket's key in `destinationRegion`. */
  readonly destinationKeyAlias: string;
  /** Replication time control and the metrics threshold, in minutes (S3 supports 15 only). @default 15 */
  readonly replicationTimeMinutes?: number;
}

/**
 * Cross-region replication of every object and delete marker of a KMS-encrypted bucket, with S3
 * Replication Time Control and replication metrics, through a role that can do exactly that: read
 * versions of the source, decrypt with the source key via S3, replicate into the destination and
 * encrypt with the destination key via S3 in that region.
 */
export class LogReplication extends Construct {
  public readonly role: iam.Role;
  public readonly ruleId = 'replicate-transaction-logs';
  public readonly sourceBucket: s3.IBucket;
  public readonly destinationBucketName: string;
  public readonly replicationTimeMinutes: number;

  constructor(scope: Construct, id: string, props: LogReplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const minutes = props.replicationTimeMinutes ?? 15;
    // Either mistake synthesizes: S3 refuses the first at deployment, the second makes every replication fail.
    if (!Token.isUnresolved(minutes) && minutes !== 15) {
      throw new Error(
        `LogReplication: replicationTimeMinutes must be 15 (the only threshold S3 Replication Time Control supports), got ${minutes}`,
      );
    }
    if (!Token.isUnresolved(props.destinationKeyAlias) && !props.destinationKeyAlias.startsWith('alias/')) {
      throw new Error(
        `LogReplication: destinationKeyAlias must be an alias ('alias/...'), got '${props.destinationKeyAlias}'`,
      );
    }
    this.sourceBucket = props.sourceBucket;
    this.destinationBucketName = props.destinationBucketName;
    this.replicationTimeMinutes = minutes;
    const destinationBucketArn = stack.formatArn({
      service: 's3',
      region: '',
      account: '',
      resource: props.destinationBucketName,
    });
    const destinationKeyAliasArn = stack.formatArn({
      service: 'kms',
      region: props.destinationRegion,
      resource: props.destinationKeyAlias,
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    });
    const source = props.sourceBucket;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: 'S3 replication of the source transaction logs to the replica region',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadReplicationConfiguration',
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: [source.bucketArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadSourceVersions',
        actions: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
        resources: [source.arnForObjects('*')],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteReplicas',
        actions: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
        resources: [`${destinationBucketArn}/*`],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptSource',
        actions: ['kms:Decrypt'],
        resources: [props.sourceKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [source.bucketArn, source.arnForObjects('*')] },
        },
      }),
    );
    // The destination key is addressed by its alias (no cross-region reference); IAM matches it by
    // the aliases the key carries.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptReplicas',
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [
          stack.formatArn({
            service: 'kms',
            region: props.destinationRegion,
            resource: 'key',
            resourceName: '*',
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${props.destinationRegion}.amazonaws.com` },
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': props.destinationKeyAlias },
          StringLike: {
            'kms:EncryptionContext:aws:s3:arn': [destinationBucketArn, `${destinationBucketArn}/*`],
          },
        },
      }),
    );

    Validations.of(this.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(source.node.defaultChild as s3.CfnBucket)}.Arn>/*]`,
        reason: 'Replication reads every version of every object of the source log bucket: that is what it replicates.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:${REF}:s3:::${REF}/*]`,
        reason: 'Replicas are written under the same keys into the one destination bucket.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:${REF}:kms:${props.destinationRegion}:${REF}:key/*]`,
        reason:
          'The destination key lives in the replica region and is matched by its alias (kms:ResourceAliases), used only through S3 there.',
      },
    );

    const cfnBucket = source.node.defaultChild as s3.CfnBucket;
    cfnBucket.replicationConfiguration = {
      role: this.role.roleArn,
      rules: [
        {
          id: this.ruleId,
          status: 'Enabled',
          priority: 1,
          filter: { prefix: '' },
          deleteMarkerReplication: { status: 'Enabled' },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: {
            bucket: destinationBucketArn,
            encryptionConfiguration: { replicaKmsKeyId: destinationKeyAliasArn },
            replicationTime: { status: 'Enabled', time: { minutes } },
            metrics: { status: 'Enabled', eventThreshold: { minutes } },
          },
        },
      ],
    };
  }
}
