import { App, CfnElement, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { StageNist80053R5Checks, StagePciDss321Checks } from '../../../lib/compliance/nag';
import { acknowledgePaymentStageFindings } from '../../../lib/compliance/payment-acknowledgements';
import { ENVIRONMENTS } from '../../../lib/config/environments';
import { PaymentConfig } from '../../../lib/config/payment-config';
import { LogReplication } from '../../../lib/constructs/payment/log-replication';
import {
  PaymentEnvironment,
  postgresParameters,
  SERVICE_DATABASE_USER,
} from '../../../lib/constructs/payment/payment-environment';
import { logRetention } from '../../../lib/stacks/migration-stack-props';
import { PaymentRole, paymentRemoval } from '../../../lib/stacks/payment/payment-stack-props';
import { unacknowledgedAwsSolutionsFindings } from '../../support/nag';
import { CDK_JSON_CONTEXT } from '../../support/stage-fixture';
import { packFindings } from './pack-findings';

const ENV = { account: '111111111111', region: 'us-east-1' };
const DATA_KEY_ARN = 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const LOG_KEY_ARN = 'arn:aws:kms:us-east-1:111111111111:key/66666666-7777-8888-9999-000000000000';
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/abcdef01-2345-6789-abcd-ef0123456789';
const POINTER = '/payment/dev/cutover/database-pointer';
const SG = { loadBalancer: 'sg-0a0a0a0a0a0a0a0a0', service: 'sg-0b0b0b0b0b0b0b0b0', database: 'sg-0c0c0c0c0c0c0c0c0' };
const ROTATION_SG = 'sg-0d0d0d0d0d0d0d0d0';
const DEV = ENVIRONMENTS.dev.payment;
/** Prod's sizing and removal with a certificate: Multi-AZ, a non-burstable class, RETAIN, HTTPS. */
const PROD_HTTPS: PaymentConfig = {
  ...ENVIRONMENTS.prod.payment,
  service: { ...ENVIRONMENTS.prod.payment.service, certificateArn: CERTIFICATE_ARN },
};

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, any>; DependsOn?: string[] } & Record<string, any>
>; // template JSON

/** One environment in a bare stack of a payment-like stage, with an imported VPC, groups and keys. */
function build(role: PaymentRole = 'source', config: PaymentConfig = DEV, replicate = false) {
  // The feature flags of cdk.json: the access-log bucket relies on serverAccessLogsUseBucketPolicy.
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stage = new Stage(app, 'Payment', { env: ENV });
  const stack = new Stack(stage, 'Environment');
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: '10.110.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    publicSubnetIds: ['subnet-0pub0000000000001', 'subnet-0pub0000000000002'],
    privateSubnetIds: ['subnet-0prv0000000000001', 'subnet-0prv0000000000002'],
    isolatedSubnetIds: ['subnet-0iso0000000000001', 'subnet-0iso0000000000002'],
  });
  const group = (id: string, groupId: string) => ec2.SecurityGroup.fromSecurityGroupId(stack, id, groupId);
  const environment = new PaymentEnvironment(stack, 'Environment', {
    role,
    config,
    namePrefix: 'payment-dev',
    vpc,
    loadBalancerSecurityGroup: group('LoadBalancerGroup', SG.loadBalancer),
    serviceSecurityGroup: group('ServiceGroup', SG.service),
    databaseSecurityGroup: group('DatabaseGroup', SG.database),
    rotationSecurityGroup: group('RotationGroup', ROTATION_SG),
    dataKey: kms.Key.fromKeyArn(stack, 'DataKey', DATA_KEY_ARN),
    logKey: kms.Key.fromKeyArn(stack, 'LogKey', LOG_KEY_ARN),
    removalPolicy: paymentRemoval(config),
    databasePointerName: POINTER,
  });
  // What PaymentEnvironmentStack adds on the source.
  if (replicate) {
    new LogReplication(stack, 'LogReplication', {
      sourceBucket: environment.logBucket,
      sourceKey: kms.Key.fromKeyArn(stack, 'LogKeyForReplication', LOG_KEY_ARN),
      destinationBucketName: 'payment-dev-log-replica-111111111111',
      destinationRegion: config.replicaRegion,
      destinationKeyAlias: 'alias/payment-dev-log-replica',
    });
  }
  acknowledgePaymentStageFindings(stage);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Resources;
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  return { stage, stack, environment, template, resources, id, ofType };
}

describe('PaymentEnvironment (dev source: HTTP, single-AZ, disposable)', () => {
  const { environment, template, resources, id, ofType } = build();
  const database = resources[id(environment.database)]!;
  const logBucketArn = { 'Fn::GetAtt': [id(environment.logBucket), 'Arn'] };

  it('runs PostgreSQL 17 encrypted with the data key, private, TLS-only CA, IAM authentication and exported logs', () => {
    expect(database.Properties).toMatchObject({
      Engine: 'postgres',
      EngineVersion: '17',
      DBInstanceIdentifier: 'payment-dev-source',
      DBInstanceClass: 'db.t4g.medium',
      StorageType: 'gp3',
      AllocatedStorage: '20',
      MaxAllocatedStorage: 50,
      StorageEncrypted: true,
      KmsKeyId: DATA_KEY_ARN,
      PubliclyAccessible: false,
      EnableIAMDatabaseAuthentication: true,
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
      CACertificateIdentifier: 'rds-ca-rsa2048-g1',
      MultiAZ: false,
      BackupRetentionPeriod: 7,
      AutoMinorVersionUpgrade: true,
      MonitoringInterval: 60,
      Port: '5432',
      VPCSecurityGroups: [SG.database],
      PreferredMaintenanceWindow: 'sun:08:00-sun:09:00',
    });
    // Performance Insights is not offered on the burstable classes.
    expect(database.Properties.EnablePerformanceInsights).toBeUndefined();
  });

  it('places the database in the isolated subnets', () => {
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
      SubnetIds: ['subnet-0iso0000000000001', 'subnet-0iso0000000000002'],
    });
  });

  it('enforces TLS, logs connections and slow statements, and reserves replication slots and senders for DMS', () => {
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: postgresParameters(10) });
    expect(postgresParameters(10)).toMatchObject({
      'rds.force_ssl': '1',
      'rds.logical_replication': '1',
      max_replication_slots: '10',
      max_wal_senders: '15',
    });
    expect(Number(postgresParameters(10).wal_sender_timeout)).toBeGreaterThanOrEqual(10_000);
  });

  it('creates the exported log groups first, encrypted with the log key and with the configured retention', () => {
    const groups = ['postgresql', 'upgrade'].map((kind) => {
      const found = ofType('AWS::Logs::LogGroup').filter(
        ([, r]) => r.Properties.LogGroupName === `/aws/rds/instance/payment-dev-source/${kind}`,
      );
      expect(found).toHaveLength(1);
      expect(found[0]![1].Properties).toMatchObject({
        KmsKeyId: LOG_KEY_ARN,
        RetentionInDays: logRetention(DEV.logRetentionDays),
      });
      return found[0]![0];
    });
    expect(database.DependsOn).toEqual(expect.arrayContaining(groups));
  });

  it('is disposable in dev: no deletion protection, no snapshot, no retained backups', () => {
    expect(database.Properties.DeletionProtection).toBe(false);
    expect(database.Properties.DeleteAutomatedBackups).toBe(true);
    expect(database.DeletionPolicy).toBe('Delete');
    for (const [, secret] of ofType('AWS::SecretsManager::Secret')) expect(secret.DeletionPolicy).toBe('Delete');
    for (const [, bucket] of ofType('AWS::S3::Bucket')) expect(bucket.DeletionPolicy).toBe('Delete');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  it('encrypts both secrets with the data key; the DMS secret holds its user and where to connect, never a password', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(2);
    for (const [, secret] of secrets) expect(secret.Properties.KmsKeyId).toBe(DATA_KEY_ARN);
    const dms = resources[id(environment.dmsSecret)]!.Properties.GenerateSecretString;
    expect(dms).toMatchObject({ GenerateStringKey: 'password', PasswordLength: 32 });
    const template = JSON.stringify(dms.SecretStringTemplate);
    for (const part of ['"engine\\":\\"postgres', '"username\\":\\"dms_user', '"dbname\\":\\"payments', '5432']) {
      expect(template).toContain(part);
    }
    expect(template).toContain(id(environment.database));
    expect(template).not.toContain('password');
  });

  it('rotates the master secret now and every period, the DMS secret only after one period', () => {
    const rotation = (secretId: string) =>
      ofType('AWS::SecretsManager::RotationSchedule').find(([, r]) => r.Properties.SecretId.Ref === secretId)?.[1]
        .Properties;
    expect(rotation(id(environment.masterSecret as never))).toMatchObject({
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: true,
    });
    expect(rotation(id(environment.dmsSecret))).toMatchObject({
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
  });

  it('keeps transaction logs versioned, KMS-encrypted with the log key, private, TLS 1.2+ and access-logged', () => {
    expect(resources[id(environment.logBucket)]!.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: LOG_KEY_ARN },
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: id(environment.accessLogBucket) },
        LogFilePrefix: 'log-bucket/',
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id(environment.logBucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('runs the service read-only as a non-root user, told where to write and which database takes writes', () => {
    const [[, definition]] = ofType('AWS::ECS::TaskDefinition') as [[string, Resources[string]]];
    const [container] = definition.Properties.ContainerDefinitions;
    expect(container).toMatchObject({
      ReadonlyRootFilesystem: true,
      User: '1000',
      Memory: 512,
      Secrets: [{ Name: 'DB_POINTER', ValueFrom: `arn:aws:ssm:${ENV.region}:${ENV.account}:parameter${POINTER}` }],
    });
    expect(container.Environment).toEqual(
      expect.arrayContaining([
        { Name: 'PAYMENT_ROLE', Value: 'source' },
        { Name: 'DB_USER', Value: SERVICE_DATABASE_USER },
        { Name: 'DB_IAM_AUTH', Value: 'true' },
        { Name: 'DB_SSL_MODE', Value: 'verify-full' },
        { Name: 'TRANSACTION_LOG_BUCKET', Value: { Ref: id(environment.logBucket) } },
      ]),
    );
    expect(JSON.stringify(container.Environment)).not.toMatch(/PASSWORD|SECRET/i);
    expect(resources[id(environment.serviceLogGroup)]!.Properties.KmsKeyId).toBe(LOG_KEY_ARN);
  });

  it('lets the task role sign in as the service user and put transaction logs, nothing else', () => {
    const taskRoleId = id(environment.taskRole as never);
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === taskRoleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      {
        Action: 'rds-db:connect',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            [
              `arn:aws:rds-db:${ENV.region}:${ENV.account}:dbuser:`,
              { 'Fn::GetAtt': [id(environment.database), 'DbiResourceId'] },
              `/${SERVICE_DATABASE_USER}`,
            ],
          ],
        },
      },
      expect.objectContaining({
        Action: expect.arrayContaining(['s3:PutObject']),
        Resource: { 'Fn::Join': ['', [logBucketArn, '/*']] },
      }),
      expect.objectContaining({ Action: expect.arrayContaining(['kms:GenerateDataKey*']), Resource: LOG_KEY_ARN }),
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/s3:GetObject|s3:DeleteObject|s3:List/);
  });

  it('runs tasks in the private subnets without public addresses, rolls back a failed deployment, and scales on CPU and memory', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 1,
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          AssignPublicIp: 'DISABLED',
          SecurityGroups: [SG.service],
          Subnets: ['subnet-0prv0000000000001', 'subnet-0prv0000000000002'],
        },
      },
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 2 });
    for (const metric of ['ECSServiceAverageCPUUtilization', 'ECSServiceAverageMemoryUtilization']) {
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: { PredefinedMetricType: metric },
          TargetValue: 60,
        }),
      });
    }
  });

  it('serves HTTP from an internet-facing load balancer that drops invalid headers and logs access', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      SecurityGroups: [SG.loadBalancer],
      Subnets: ['subnet-0pub0000000000001', 'subnet-0pub0000000000002'],
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'deletion_protection.enabled', Value: 'false' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.bucket', Value: { Ref: id(environment.accessLogBucket) } },
        { Key: 'access_logs.s3.prefix', Value: 'alb' },
      ]),
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Port: 8080,
      HealthCheckPath: '/health',
      Matcher: { HttpCode: '200' },
    });
    expect(environment.protocol).toBe('HTTP');
    template.hasOutput('*', {
      Value: Match.objectLike({ 'Fn::Join': ['', ['http://', Match.anyValue(), '/health']] }),
    });
  });

  it('creates the database pointer naming itself before the service starts, and never overwrites it', () => {
    const pointers = ofType('Custom::AWS');
    expect(pointers).toHaveLength(1);
    const [pointerId, pointer] = pointers[0]!;
    expect(pointer.Properties.Update).toBeUndefined();
    expect(JSON.stringify(pointer.Properties.Create)).toContain(`\\"Name\\":\\"${POINTER}\\"`);
    expect(JSON.stringify(pointer.Properties.Create)).toContain('writer');
    expect(JSON.stringify(pointer.Properties.Create)).toContain(id(environment.database));
    expect(resources[id(environment.service)]!.DependsOn).toContain(pointerId);
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(environment)).toEqual([]);
  });
});

describe('PaymentEnvironment (target)', () => {
  const { environment, template, resources, id } = build('target');

  it('reads the pointer the source created, and creates none', () => {
    template.resourceCountIs('Custom::AWS', 0);
    expect(environment.databasePointer.parameterName).toBe(POINTER);
    expect(environment.databasePointer.parameterArn).toBe(
      `arn:aws:ssm:${ENV.region}:${ENV.account}:parameter${POINTER}`,
    );
  });

  it('has its own database name and maintenance window, apart from the source', () => {
    expect(resources[id(environment.database)]!.Properties).toMatchObject({
      DBInstanceIdentifier: 'payment-dev-target',
      PreferredMaintenanceWindow: 'mon:08:00-mon:09:00',
    });
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(environment)).toEqual([]);
  });
});

describe('PaymentEnvironment (prod sizing and removal, with a certificate)', () => {
  const { environment, template, resources, id, ofType } = build('source', PROD_HTTPS);
  const database = resources[id(environment.database)]!;

  it('is Multi-AZ with Performance Insights under the data key', () => {
    expect(database.Properties).toMatchObject({
      MultiAZ: true,
      EnablePerformanceInsights: true,
      PerformanceInsightsKMSKeyId: DATA_KEY_ARN,
      BackupRetentionPeriod: 14,
    });
  });

  it('keeps what it holds: deletion protection, a final snapshot, retained secrets, buckets and log groups', () => {
    expect(paymentRemoval(PROD_HTTPS)).toBe(RemovalPolicy.RETAIN);
    expect(database.Properties.DeletionProtection).toBe(true);
    expect(database.Properties.DeleteAutomatedBackups).toBe(false);
    expect(database.DeletionPolicy).toBe('Snapshot');
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup']) {
      for (const [, r] of ofType(type)) expect([type, r.DeletionPolicy]).toEqual([type, 'Retain']);
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
  });

  it('serves HTTPS with the certificate and a recommended TLS policy, and redirects port 80', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE_ARN }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Port: '443' }) })],
    });
    expect(environment.protocol).toBe('HTTPS');
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(environment)).toEqual([]);
  });
});

describe('PaymentEnvironment under the payment stage packs', () => {
  const stageFindings = (built: ReturnType<typeof build>) => [
    ...packFindings(new StagePciDss321Checks(built.stage), built.stack),
    ...packFindings(new StageNist80053R5Checks(built.stage), built.stack),
  ];

  test.each([
    ['dev source', 'source', DEV],
    ['prod source with a certificate', 'source', PROD_HTTPS],
  ] as const)(
    '%s asks for replication of its log bucket, and with it leaves no PCI DSS or NIST finding',
    (_c, role, config) => {
      expect(stageFindings(build(role, config))).toEqual(
        ['PCI.DSS.321', 'NIST.800.53.R5'].map(
          (pack) => `${pack}-S3BucketReplicationEnabled on Payment/Environment/Environment/LogBucket/Resource`,
        ),
      );
      expect(stageFindings(build(role, config, true))).toEqual([]);
    },
  );

  test.each([
    ['dev target', DEV],
    ['prod target with a certificate', PROD_HTTPS],
  ] as const)('%s leaves no unacknowledged PCI DSS 3.2.1 or NIST 800-53 rev 5 finding', (_c, config) => {
    expect(stageFindings(build('target', config))).toEqual([]);
  });
});
