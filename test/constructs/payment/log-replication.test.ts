import { App, CfnElement, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { StageNist80053R5Checks, StagePciDss321Checks } from '../../../lib/compliance/nag';
import { acknowledgePaymentStageFindings } from '../../../lib/compliance/payment-acknowledgements';
import { LogReplication, LogReplicationProps } from '../../../lib/constructs/payment/log-replication';
import { unacknowledgedAwsSolutionsFindings } from '../../support/nag';
import { resolveJoins } from '../resolve-joins';
import { packFindings } from './pack-findings';

const ENV = { account: '111111111111', region: 'us-east-1' };
const SOURCE_KEY_ARN = 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const DESTINATION = { bucket: 'payment-dev-log-replica-111111111111', region: 'us-west-2', alias: 'alias/replica' };

/** The source bucket (versioned, under an imported key) and the construct, in a bare stack of a payment-like stage. */
function build(props: Partial<LogReplicationProps> = {}, replicate = true) {
  const app = new App();
  const stage = new Stage(app, 'Payment', { env: ENV });
  const stack = new Stack(stage, 'Source');
  const sourceKey = kms.Key.fromKeyArn(stack, 'LogKey', SOURCE_KEY_ARN);
  const sourceBucket = new s3.Bucket(stack, 'LogBucket', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: sourceKey,
    versioned: true,
    enforceSSL: true,
  });
  const replication = replicate
    ? new LogReplication(stack, 'LogReplication', {
        sourceBucket,
        sourceKey,
        destinationBucketName: DESTINATION.bucket,
        destinationRegion: DESTINATION.region,
        destinationKeyAlias: DESTINATION.alias,
        ...props,
      })
    : undefined;
  acknowledgePaymentStageFindings(stage);
  const template = Template.fromStack(stack);
  return { stage, stack, sourceBucket, replication, template };
}

describe('LogReplication', () => {
  const { stage, stack, sourceBucket, replication, template } = build();
  const bucketId = stack.getLogicalId(sourceBucket.node.defaultChild as CfnElement);
  const roleId = stack.getLogicalId(replication!.role.node.defaultChild as CfnElement);
  const bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
  const objects = { 'Fn::Join': ['', [bucketArn, '/*']] };
  const statements = () =>
    Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Array<{ Sid: string }> } } }).Properties.PolicyDocument
          .Statement,
    );
  const statement = (sid: string) => statements().find((s) => s.Sid === sid);

  it('replicates every object and delete marker, KMS-encrypted ones included, with RTC and metrics at 15 minutes', () => {
    const bucket = template.toJSON().Resources[bucketId].Properties;
    expect(bucket.ReplicationConfiguration.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(resolveJoins(bucket.ReplicationConfiguration.Rules)).toEqual([
      {
        Id: 'replicate-transaction-logs',
        Status: 'Enabled',
        Priority: 1,
        Filter: { Prefix: '' },
        DeleteMarkerReplication: { Status: 'Enabled' },
        SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
        Destination: {
          Bucket: `arn:aws:s3:::${DESTINATION.bucket}`,
          EncryptionConfiguration: {
            ReplicaKmsKeyID: `arn:aws:kms:${DESTINATION.region}:${ENV.account}:${DESTINATION.alias}`,
          },
          ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
          Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
        },
      },
    ]);
    expect(replication!.replicationTimeMinutes).toBe(15);
  });

  it('runs as a role only S3 can assume', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' } }],
      },
    });
  });

  it('reads the replication configuration and object versions of the source bucket only', () => {
    expect(statement('ReadReplicationConfiguration')).toEqual({
      Sid: 'ReadReplicationConfiguration',
      Effect: 'Allow',
      Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
      Resource: bucketArn,
    });
    expect(statement('ReadSourceVersions')).toEqual({
      Sid: 'ReadSourceVersions',
      Effect: 'Allow',
      Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'],
      Resource: objects,
    });
  });

  it('writes replicas into the one destination bucket only', () => {
    expect(resolveJoins(statement('WriteReplicas'))).toEqual({
      Sid: 'WriteReplicas',
      Effect: 'Allow',
      Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'],
      Resource: `arn:aws:s3:::${DESTINATION.bucket}/*`,
    });
  });

  it('decrypts with the source key only through S3 in this region, for objects of the source bucket', () => {
    expect(statement('DecryptSource')).toEqual({
      Sid: 'DecryptSource',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: SOURCE_KEY_ARN,
      Condition: {
        StringEquals: { 'kms:ViaService': `s3.${ENV.region}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucketArn, objects] },
      },
    });
  });

  it('encrypts with the key carrying the destination alias only, through S3 in the replica region', () => {
    expect(resolveJoins(statement('EncryptReplicas'))).toEqual({
      Sid: 'EncryptReplicas',
      Effect: 'Allow',
      Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: `arn:aws:kms:${DESTINATION.region}:${ENV.account}:key/*`,
      Condition: {
        StringEquals: { 'kms:ViaService': `s3.${DESTINATION.region}.amazonaws.com` },
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': DESTINATION.alias },
        StringLike: {
          'kms:EncryptionContext:aws:s3:arn': [
            `arn:aws:s3:::${DESTINATION.bucket}`,
            `arn:aws:s3:::${DESTINATION.bucket}/*`,
          ],
        },
      },
    });
    expect(statements()).toHaveLength(5);
  });

  it.each([10, 60])('refuses a replication time of %i minutes (S3 Replication Time Control supports 15 only)', (m) => {
    expect(() => build({ replicationTimeMinutes: m })).toThrow(
      `LogReplication: replicationTimeMinutes must be 15 (the only threshold S3 Replication Time Control supports), got ${m}`,
    );
  });

  it('refuses a destination key that is not an alias', () => {
    expect(() => build({ destinationKeyAlias: 'replica' })).toThrow(
      "LogReplication: destinationKeyAlias must be an alias ('alias/...'), got 'replica'",
    );
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(replication!)).toEqual([]);
  });

  it.each([
    ['PCI DSS 3.2.1', StagePciDss321Checks],
    ['NIST 800-53 rev 5', StageNist80053R5Checks],
  ])('leaves no unacknowledged %s finding on the role', (_name, Pack) => {
    expect(packFindings(new Pack(stage), replication!)).toEqual([]);
  });

  it.each([
    ['PCI.DSS.321', StagePciDss321Checks],
    ['NIST.800.53.R5', StageNist80053R5Checks],
  ])('satisfies the %s replication rule on the source bucket', (pack, Pack) => {
    const rule = `${pack}-S3BucketReplicationEnabled`;
    const replicationFindings = (built: ReturnType<typeof build>) =>
      packFindings(new Pack(built.stage), built.sourceBucket).filter((f) => f.startsWith(`${rule} `));
    expect(replicationFindings(build({}, false))).toEqual([`${rule} on Payment/Source/LogBucket/Resource`]);
    expect(replicationFindings(build())).toEqual([]);
  });
});
