import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { enforceEncryptionAtRest, type EncryptionAtRestChecksProps } from '../../lib/compliance/encryption-aspect';

const KEY = 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555';

/** One resource of `type` with `properties`, in a stack with the checks on; the errors it gets. */
function errorsFor(type: string, properties: Record<string, unknown>, props: EncryptionAtRestChecksProps = {}) {
  const app = new App();
  const stack = new Stack(app, 'Checked');
  new CfnResource(stack, 'Planted', { type, properties });
  enforceEncryptionAtRest(stack, props);
  return Annotations.fromStack(stack).findError(
    '/Checked/Planted',
    Match.stringLikeRegexp('Encryption at rest is off'),
  );
}

const ebs = (encrypted?: boolean) => [
  { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, ...(encrypted === undefined ? {} : { Encrypted: encrypted }) } },
];

/** [type, unencrypted properties, encrypted properties] for the kinds that can be off. */
const CASES: [string, Record<string, unknown>, Record<string, unknown>][] = [
  [
    'AWS::S3::Bucket',
    {},
    {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY } },
        ],
      },
    },
  ],
  [
    'AWS::EC2::Volume',
    { Size: 10, AvailabilityZone: 'us-east-1a' },
    { Size: 10, AvailabilityZone: 'us-east-1a', Encrypted: true },
  ],
  [
    'AWS::EC2::Instance',
    { ImageId: 'ami-1', BlockDeviceMappings: ebs() },
    { ImageId: 'ami-1', BlockDeviceMappings: ebs(true) },
  ],
  [
    'AWS::EC2::LaunchTemplate',
    { LaunchTemplateData: { BlockDeviceMappings: ebs(false) } },
    { LaunchTemplateData: { BlockDeviceMappings: ebs(true) } },
  ],
  [
    'AWS::RDS::DBInstance',
    { Engine: 'postgres', DBInstanceClass: 'db.t4g.micro' },
    { Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', StorageEncrypted: true },
  ],
  ['AWS::RDS::DBCluster', { Engine: 'aurora-postgresql' }, { Engine: 'aurora-postgresql', StorageEncrypted: true }],
  ['AWS::SNS::Topic', {}, { KmsMasterKeyId: KEY }],
  ['AWS::SQS::Queue', { SqsManagedSseEnabled: false }, { KmsMasterKeyId: KEY }],
  ['AWS::EFS::FileSystem', {}, { Encrypted: true }],
  [
    'AWS::OpenSearchService::Domain',
    { EncryptionAtRestOptions: { Enabled: false } },
    { EncryptionAtRestOptions: { Enabled: true } },
  ],
  ['AWS::Elasticsearch::Domain', {}, { EncryptionAtRestOptions: { Enabled: true } }],
  [
    'AWS::Kinesis::Stream',
    { ShardCount: 1 },
    { ShardCount: 1, StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' } },
  ],
  [
    'AWS::KinesisFirehose::DeliveryStream',
    { DeliveryStreamType: 'DirectPut' },
    { DeliveryStreamType: 'DirectPut', DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' } },
  ],
];

/** Kinds the service always encrypts: findings only when a customer managed key is required. */
const CMK_CASES: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['AWS::Logs::LogGroup', {}, { KmsKeyId: KEY }],
  [
    'AWS::DMS::ReplicationInstance',
    { ReplicationInstanceClass: 'dms.t3.medium' },
    { ReplicationInstanceClass: 'dms.t3.medium', KmsKeyId: KEY },
  ],
  ['AWS::DynamoDB::Table', {}, { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: KEY } }],
  ['AWS::SQS::Queue', { SqsManagedSseEnabled: true }, { KmsMasterKeyId: KEY }],
  [
    'AWS::S3::Bucket',
    {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    },
    {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse' } }],
      },
    },
  ],
];

describe('EncryptionAtRestChecks', () => {
  it.each(CASES)('%s: an unencrypted one is an error, an encrypted one is not', (type, off, on) => {
    expect(errorsFor(type, off)).toHaveLength(1);
    expect(errorsFor(type, on)).toEqual([]);
  });

  it.each(CMK_CASES)('%s: without a KMS key, an error only where one is required', (type, awsKey, cmk) => {
    expect(errorsFor(type, awsKey)).toEqual([]);
    expect(errorsFor(type, awsKey, { requireCustomerManagedKeys: true })).toHaveLength(1);
    expect(errorsFor(type, cmk, { requireCustomerManagedKeys: true })).toEqual([]);
  });

  it('an Aurora instance takes its encryption from the cluster', () => {
    expect(errorsFor('AWS::RDS::DBInstance', { DBClusterIdentifier: 'c', Engine: 'aurora-postgresql' })).toEqual([]);
  });

  it('names what is off in the error', () => {
    const [finding] = errorsFor('AWS::EC2::Instance', { BlockDeviceMappings: ebs() });
    expect(finding!.entry.data).toMatch(/EBS volume\(s\) \/dev\/xvda without Encrypted: true/);
  });

  it('sees L2 defaults and escape-hatch overrides as they will be synthesized', () => {
    const app = new App();
    const stack = new Stack(app, 'L2');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const key = new kms.Key(stack, 'Key');
    new s3.Bucket(stack, 'Encrypted', { encryptionKey: key });
    new sns.Topic(stack, 'PlainTopic');
    new sqs.Queue(stack, 'Queue');
    new logs.LogGroup(stack, 'Logs');
    new rds.DatabaseInstance(stack, 'Db', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      storageEncrypted: true,
    });
    const overridden = new sns.Topic(stack, 'OverriddenTopic', { masterKey: key });
    (overridden.node.defaultChild as CfnResource).addPropertyDeletionOverride('KmsMasterKeyId');
    enforceEncryptionAtRest(stack);
    const errors = Annotations.fromStack(stack)
      .findError('*', Match.stringLikeRegexp('Encryption at rest is off'))
      .map((e) => e.id);
    expect(errors.sort()).toEqual(['/L2/OverriddenTopic/Resource', '/L2/PlainTopic/Resource']);
  });

  it('makes the CLI refuse to synthesize (an error annotation, not a warning)', () => {
    const [finding] = errorsFor('AWS::SNS::Topic', {});
    expect(finding!.entry.type).toBe('aws:cdk:error');
  });
});
