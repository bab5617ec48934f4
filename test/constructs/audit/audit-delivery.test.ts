import { App, CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import { AuditDelivery, AuditDeliveryProps, DELIVERY_RETRY } from '../../../lib/constructs/audit';
import { unacknowledgedAwsSolutionsFindings } from '../../support/nag';

const ENV = { account: '111111111111', region: 'us-west-2' };
const KEY_ARN = 'arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const DOMAIN_ARN = 'arn:aws:es:us-west-2:111111111111:domain/audit';

/** The construct alone in a bare stack, with an imported VPC, domain and key; `use` runs before synthesis. */
function build(props: Partial<AuditDeliveryProps> = {}, use?: (delivery: AuditDelivery, stack: Stack) => void) {
  const app = new App();
  const stack = new Stack(app, 'Delivery', { env: ENV });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-west-2a', 'us-west-2b'],
    isolatedSubnetIds: ['subnet-isolated0', 'subnet-isolated1'],
  });
  const startAfter = new CfnResource(stack, 'DomainSetup', { type: 'AWS::CloudFormation::WaitConditionHandle' });
  const delivery = new AuditDelivery(stack, 'Delivery', {
    domain: opensearch.Domain.fromDomainAttributes(stack, 'Domain', {
      domainArn: DOMAIN_ARN,
      domainEndpoint: 'https://vpc-audit-abc.us-west-2.es.amazonaws.com',
    }),
    vpc,
    subnets: vpc.isolatedSubnets,
    encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
    logRetention: logs.RetentionDays.ONE_MONTH,
    startAfter,
    ...props,
  });
  use?.(delivery, stack);
  return { stack, delivery, template: Template.fromStack(stack) };
}

const idOf = (stack: Stack, construct: { node: { defaultChild?: unknown } } | CfnResource) =>
  stack.getLogicalId((construct instanceof CfnResource ? construct : construct.node.defaultChild) as CfnResource);

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** Statements of every identity policy attached to the role with this logical id. */
function statementsOf(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map((p) => (p as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }).Properties)
    .filter((p) => JSON.stringify(p.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.PolicyDocument.Statement);
}

describe('AuditDelivery', () => {
  const { stack, delivery, template: t } = build();
  const bucketId = idOf(stack, delivery.backupBucket);
  const roleId = idOf(stack, delivery.role);
  const transformId = Object.keys(t.findResources('AWS::Lambda::Function')).find((id) =>
    id.startsWith('DeliveryLogTransform'),
  )!;
  const streams = Object.entries(t.findResources('AWS::KinesisFirehose::DeliveryStream')).map(([id, r]) => ({
    id,
    resource: r as {
      DependsOn: string[];
      Properties: {
        DeliveryStreamEncryptionConfigurationInput: unknown;
        AmazonopensearchserviceDestinationConfiguration: Record<string, unknown> & { IndexName: string };
      };
    },
  }));
  const byIndex = (index: string) =>
    streams.find((s) => s.resource.Properties.AmazonopensearchserviceDestinationConfiguration.IndexName === index)!;

  it('delivers events and logs to daily indices of the domain, inside the VPC, encrypted with the key', () => {
    expect(
      streams.map((s) => s.resource.Properties.AmazonopensearchserviceDestinationConfiguration.IndexName).sort(),
    ).toEqual(['audit-events', 'audit-logs']);
    for (const { resource } of streams) {
      expect(resource.Properties.DeliveryStreamEncryptionConfigurationInput).toEqual({
        KeyType: 'CUSTOMER_MANAGED_CMK',
        KeyARN: KEY_ARN,
      });
      expect(resource.Properties.AmazonopensearchserviceDestinationConfiguration).toMatchObject({
        DomainARN: DOMAIN_ARN,
        IndexRotationPeriod: 'OneDay',
        RoleARN: { 'Fn::GetAtt': [roleId, 'Arn'] },
        RetryOptions: { DurationInSeconds: DELIVERY_RETRY.toSeconds() },
        S3BackupMode: 'FailedDocumentsOnly',
        S3Configuration: {
          BucketARN: { 'Fn::GetAtt': [bucketId, 'Arn'] },
          CompressionFormat: 'GZIP',
          EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: KEY_ARN } },
          CloudWatchLoggingOptions: { Enabled: true },
        },
        CloudWatchLoggingOptions: { Enabled: true },
        VpcConfiguration: {
          SubnetIds: ['subnet-isolated0', 'subnet-isolated1'],
          SecurityGroupIds: [{ 'Fn::GetAtt': [idOf(stack, delivery.securityGroup), 'GroupId'] }],
        },
      });
    }
    expect(DELIVERY_RETRY.toSeconds()).toBe(300);
  });

  it('decodes log records with the transform function on the logs stream only', () => {
    expect(
      byIndex('audit-events').resource.Properties.AmazonopensearchserviceDestinationConfiguration
        .ProcessingConfiguration,
    ).toBeUndefined();
    expect(
      byIndex('audit-logs').resource.Properties.AmazonopensearchserviceDestinationConfiguration.ProcessingConfiguration,
    ).toEqual({
      Enabled: true,
      Processors: [
        {
          Type: 'Lambda',
          Parameters: expect.arrayContaining([
            { ParameterName: 'LambdaArn', ParameterValue: { 'Fn::GetAtt': [transformId, 'Arn'] } },
            { ParameterName: 'BufferSizeInMBs', ParameterValue: '0.5' },
          ]),
        },
      ],
    });
  });

  it('starts the streams after the given dependency and keeps the role until they are gone', () => {
    for (const { resource } of streams) {
      expect(resource.DependsOn).toEqual(expect.arrayContaining(['DomainSetup', roleId]));
    }
  });

  it('keeps the backup encrypted with the key, versioned, TLS-only, access-logged and expiring', () => {
    const accessLogsId = Object.keys(t.findResources('AWS::S3::Bucket')).find((id) =>
      id.startsWith('DeliveryBackupAccessLogs'),
    )!;
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN },
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: accessLogsId }, LogFilePrefix: 'delivery-backup/' },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            ExpirationInDays: 30,
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    for (const bucket of [bucketId, accessLogsId]) {
      t.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucket },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('takes the backup lifecycle from its props', () => {
    build({
      backupLifecycle: {
        expiration: Duration.days(90),
        noncurrentVersionExpiration: Duration.days(5),
        abortIncompleteUploadAfter: Duration.days(2),
        accessLogExpiration: Duration.days(365),
      },
    }).template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            ExpirationInDays: 90,
            NoncurrentVersionExpiration: { NoncurrentDays: 5 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
          }),
        ],
      },
    });
  });

  it('lets the delivery role write the backup, use the key only through S3, manage ENIs and invoke the transform', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'firehose.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
          }),
        ],
      },
    });
    const statements = statementsOf(t, roleId);
    const bySid = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual([
      'EncryptBackup',
      'InvokeLogTransform',
      'VpcDeliveryNetworkInterfaces',
      'WriteBackup',
    ]);
    expect(bySid.WriteBackup!.Resource).toEqual([
      { 'Fn::GetAtt': [bucketId, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
    ]);
    expect(bySid.EncryptBackup).toMatchObject({
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: KEY_ARN,
      Condition: { StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' } },
    });
    expect(bySid.InvokeLogTransform!.Resource).toEqual({ 'Fn::GetAtt': [transformId, 'Arn'] });
    // No domain rights here: the domain grants them to its one writer (AuditDomain.setWriter).
    expect(JSON.stringify(statements)).not.toContain('es:');
    // Besides the ENI actions, every statement names a resource of this construct or the key.
    for (const s of statements.filter((st) => st.Sid !== 'VpcDeliveryNetworkInterfaces')) {
      expect(s.Resource).not.toBe('*');
    }
  });

  it.each([
    ['events', 'events.amazonaws.com', 'audit-events'],
    ['logs', 'logs.amazonaws.com', 'audit-logs'],
  ] as const)('lets %s put records into its own stream only', (which, service, index) => {
    const role = which === 'events' ? delivery.eventsPutRole : delivery.logsPutRole;
    const [statement, ...rest] = statementsOf(t, idOf(stack, role));
    expect(rest).toEqual([]);
    expect(statement).toMatchObject({
      Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
      Resource: { 'Fn::GetAtt': [byIndex(index).id, 'Arn'] },
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: service },
            Condition: Match.anyValue(),
          }),
        ],
      },
    });
  });

  it('subscribes a log group to the logs stream through the logs role', () => {
    const b = build({}, (d, s) =>
      d.subscribeLogGroup(logs.LogGroup.fromLogGroupName(s, 'Handler', '/aws/lambda/handler'), 'Audit'),
    );
    const tpl = b.template;
    const [filter] = Object.values(tpl.findResources('AWS::Logs::SubscriptionFilter')) as {
      Properties: Record<string, unknown>;
      DependsOn: string[];
    }[];
    const logsStream = idOf(b.stack, b.delivery.logsStream);
    const logsRole = idOf(b.stack, b.delivery.logsPutRole);
    expect(filter!.Properties).toEqual({
      LogGroupName: '/aws/lambda/handler',
      FilterPattern: '',
      DestinationArn: { 'Fn::GetAtt': [logsStream, 'Arn'] },
      RoleArn: { 'Fn::GetAtt': [logsRole, 'Arn'] },
    });
    // CloudWatch Logs test-writes on creation: the role's policy must exist by then.
    expect(filter!.DependsOn).toEqual(
      expect.arrayContaining([logsRole, expect.stringMatching(/^DeliveryCloudWatchLogsToFirehoseRoleDefaultPolicy/)]),
    );
  });

  it('retains buckets and log groups by default; DESTROY also empties the buckets', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::Logs::LogGroup']) {
      const resources = Object.values(t.findResources(type)) as { DeletionPolicy: string }[];
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect(r.DeletionPolicy).toBe('Retain');
    }
    t.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    const disposable = build({ removalPolicy: RemovalPolicy.DESTROY }).template;
    disposable.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    disposable.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
  });

  it('keeps its logs for the given retention', () => {
    for (const g of Object.values(t.findResources('AWS::Logs::LogGroup'))) {
      expect((g as { Properties: { RetentionInDays: number } }).Properties.RetentionInDays).toBe(30);
    }
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(stack)).toEqual([]);
  });
});
