import { Match, Template } from 'aws-cdk-lib/assertions';
import { resourcesOf, synthStage } from '../support/stage-fixture';

// One synth per environment, shared by every assertion in this file.
const dev = synthStage('dev').templates;
const prod = synthStage('prod').templates;
/** `/aws-glue/jobs/<stack name>/<first block of the stack id's UUID>`: unique per deployment. */
const GLUE_LOG_PREFIX = {
  'Fn::Join': [
    '',
    [
      '/aws-glue/jobs/Test-Glue/',
      {
        'Fn::Select': [
          0,
          { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
        ],
      },
    ],
  ],
} as const;
const t = (templates: Record<string, Template>, stack: string) => templates[stack]!;

describe('NetworkStack', () => {
  it('spans two AZs with public, private and isolated subnets', () => {
    const subnets = resourcesOf(t(dev, 'Network'), 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(6);
  });

  it('uses one NAT gateway per AZ in prod and one NAT instance in dev (cost)', () => {
    t(prod, 'Network').resourceCountIs('AWS::EC2::NatGateway', 2);
    t(prod, 'Network').resourceCountIs('AWS::EC2::Instance', 0);
    const n = t(dev, 'Network');
    n.resourceCountIs('AWS::EC2::NatGateway', 0);
    const instances = resourcesOf(n, 'AWS::EC2::Instance');
    expect(instances).toHaveLength(1);
    const [id, nat] = instances[0]!;
    expect(nat).toMatchObject({
      InstanceType: 't4g.nano',
      SourceDestCheck: false,
      CreditSpecification: { CPUCredits: 'standard' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3', Encrypted: true } }],
      NetworkInterfaces: [expect.objectContaining({ DeviceIndex: '0', AssociatePublicIpAddress: true })],
    });
    // IMDSv2 through the launch template that aws-cdk-lib's aspect attaches.
    const imdsv2 = n.findResources('AWS::EC2::LaunchTemplate', {
      Properties: { LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } } },
    });
    expect(nat.LaunchTemplate.Version).toEqual({ 'Fn::GetAtt': [Object.keys(imdsv2)[0], 'LatestVersionNumber'] });
    // Both private subnets send their default route to it.
    const defaults = resourcesOf(n, 'AWS::EC2::Route').filter(
      ([, p]) => p.DestinationCidrBlock === '0.0.0.0/0' && p.InstanceId,
    );
    expect(defaults.map(([, p]) => p.InstanceId)).toEqual([{ Ref: id }, { Ref: id }]);
  });

  it('lets into the NAT instance only the VPC, and forwards only HTTPS and NTP', () => {
    const n = t(dev, 'Network');
    const [groupId, group] = Object.entries(n.findResources('AWS::EC2::SecurityGroup')).find(
      ([, r]) => (r as any).Properties.GroupDescription === 'Security Group for NAT instances',
    )! as [string, any];
    const rule = (r: any) => `${r.IpProtocol}/${r.FromPort}/${JSON.stringify(r.CidrIp)}`;
    const vpcCidr = JSON.stringify({ 'Fn::GetAtt': [Object.keys(n.findResources('AWS::EC2::VPC'))[0], 'CidrBlock'] });
    expect((group.Properties.SecurityGroupIngress ?? []).map(rule).sort()).toEqual(
      [`tcp/443/${vpcCidr}`, `udp/123/${vpcCidr}`].sort(),
    );
    expect(group.Properties.SecurityGroupEgress.map(rule).sort()).toEqual(
      ['tcp/443/"0.0.0.0/0"', 'udp/123/"0.0.0.0/0"'].sort(),
    );
    const separate = resourcesOf(n, 'AWS::EC2::SecurityGroupIngress').filter(([, p]) =>
      JSON.stringify(p.GroupId).includes(groupId),
    );
    expect(separate).toEqual([]);
  });

  it('has an S3 gateway endpoint, interface endpoints and flow logs', () => {
    const n = t(prod, 'Network');
    n.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    const interfaces = resourcesOf(n, 'AWS::EC2::VPCEndpoint').filter(([, p]) => p.VpcEndpointType === 'Interface');
    expect(interfaces.map(([, p]) => JSON.stringify(p.ServiceName)).sort()).toEqual([
      expect.stringContaining('kms'),
      expect.stringContaining('logs'),
      expect.stringContaining('secretsmanager'),
      expect.stringContaining('sts'),
    ]);
    for (const [, p] of interfaces) expect(p.SubnetIds).toHaveLength(2);
    n.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });

  it('in dev, has only the Secrets Manager endpoint DMS and rotation need, in one AZ (cost)', () => {
    const interfaces = resourcesOf(t(dev, 'Network'), 'AWS::EC2::VPCEndpoint').filter(
      ([, p]) => p.VpcEndpointType === 'Interface',
    );
    expect(interfaces).toHaveLength(1);
    expect(JSON.stringify(interfaces[0]![1].ServiceName)).toContain('secretsmanager');
    expect(interfaces[0]![1].SubnetIds).toHaveLength(1);
    expect(interfaces[0]![1].PrivateDnsEnabled).toBe(true);
  });

  it('opens the database only to DMS and the rotation function on 3306', () => {
    const n = t(dev, 'Network');
    const groups = n.findResources('AWS::EC2::SecurityGroup');
    const idOf = (description: string) =>
      Object.entries(groups).find(([, r]) => (r as any).Properties.GroupDescription === description)![0];
    const db = idOf('Aurora MySQL cluster');
    const ingress = resourcesOf(n, 'AWS::EC2::SecurityGroupIngress').filter(([, p]) =>
      JSON.stringify(p.GroupId).includes(db),
    );
    expect(ingress.map(([, p]) => [p.FromPort, p.ToPort, p.SourceSecurityGroupId['Fn::GetAtt'][0]]).sort()).toEqual(
      [
        [3306, 3306, idOf('DMS replication instance')],
        [3306, 3306, idOf('Aurora credential rotation function')],
      ].sort(),
    );
  });

  it('opens no ingress from the internet', () => {
    const n = t(dev, 'Network');
    for (const [, p] of resourcesOf(n, 'AWS::EC2::SecurityGroupIngress')) expect(p.CidrIp).not.toBe('0.0.0.0/0');
    for (const [, p] of resourcesOf(n, 'AWS::EC2::SecurityGroup')) {
      for (const rule of p.SecurityGroupIngress ?? []) expect(rule.CidrIp).not.toBe('0.0.0.0/0');
    }
  });

  it('limits DataSync agent egress to HTTPS, NTP and the on-premises file ports', () => {
    const n = t(dev, 'Network');
    const agent = Object.entries(n.findResources('AWS::EC2::SecurityGroup')).find(
      ([, r]) => (r as any).Properties.GroupDescription === 'DataSync agent instance',
    )!;
    const egress = (agent[1] as any).Properties.SecurityGroupEgress as {
      CidrIp: string;
      FromPort: number;
      IpProtocol: string;
    }[];
    expect(egress.map((e) => `${e.IpProtocol}/${e.FromPort}/${e.CidrIp}`).sort()).toEqual(
      [
        'tcp/443/0.0.0.0/0',
        'udp/123/0.0.0.0/0',
        'tcp/2049/192.168.0.0/16',
        'tcp/111/192.168.0.0/16',
        'tcp/445/192.168.0.0/16',
      ].sort(),
    );
  });
});

describe('StorageStack', () => {
  it('encrypts the data bucket with the rotating data key and blocks public access', () => {
    const s = t(dev, 'Storage');
    s.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    s.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            BucketKeyEnabled: true,
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'data-bucket/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
  });

  it('denies requests without TLS', () => {
    t(dev, 'Storage').hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('sends object events to EventBridge', () => {
    t(dev, 'Storage').hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });

  it('retains the bucket and key outside dev and destroys them in dev', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key']) {
      for (const [, r] of Object.entries(t(prod, 'Storage').findResources(type)))
        expect((r as any).DeletionPolicy).toBe('Retain');
      for (const [, r] of Object.entries(t(dev, 'Storage').findResources(type)))
        expect((r as any).DeletionPolicy).toBe('Delete');
    }
  });
});

describe('MessagingStack', () => {
  it('encrypts both topics and the dead-letter queue with the messaging key', () => {
    const m = t(dev, 'Messaging');
    const topics = resourcesOf(m, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(2);
    for (const [, p] of topics) expect(p.KmsMasterKeyId).toBeDefined();
    m.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600, KmsMasterKeyId: Match.anyValue() });
  });
});

describe('DatabaseStack', () => {
  it('runs Aurora MySQL 3.10 LTS, encrypted, with 7-day backups and all four log exports', () => {
    for (const templates of [dev, prod]) {
      t(templates, 'Database').hasResourceProperties('AWS::RDS::DBCluster', {
        Engine: 'aurora-mysql',
        EngineVersion: '8.0.mysql_aurora.3.10.4',
        StorageEncrypted: true,
        BackupRetentionPeriod: 7,
        EnableCloudwatchLogsExports: ['error', 'general', 'slowquery', 'audit'],
        DBSubnetGroupName: Match.anyValue(),
      });
    }
  });

  it('requires TLS through the cluster parameter group', () => {
    t(dev, 'Database').hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Parameters: Match.objectLike({ require_secure_transport: 'ON', server_audit_logging: '1' }),
    });
  });

  it('uses Serverless v2 that pauses when idle in dev and r6g.large writer + reader in prod', () => {
    // Minimum 0 ACU (auto-pause) needs Aurora MySQL 3.08 or later.
    t(dev, 'Database').hasResourceProperties('AWS::RDS::DBCluster', {
      EngineVersion: Match.stringLikeRegexp('^8\\.0\\.mysql_aurora\\.3\\.(0[89]|[1-9]\\d)\\.'),
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 2 },
    });
    // Writer and reader pause and resume together (promotion tiers 0 and 1).
    const devInstances = resourcesOf(t(dev, 'Database'), 'AWS::RDS::DBInstance');
    expect(devInstances.map(([, p]) => [p.DBInstanceClass, p.PromotionTier])).toEqual([
      ['db.serverless', 0],
      ['db.serverless', 1],
    ]);
    const prodInstances = resourcesOf(t(prod, 'Database'), 'AWS::RDS::DBInstance');
    expect(prodInstances.map(([, p]) => p.DBInstanceClass)).toEqual(['db.r6g.large', 'db.r6g.large']);
  });

  it('protects prod from deletion and keeps a snapshot; dev is disposable', () => {
    t(prod, 'Database').hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Snapshot',
      Properties: Match.objectLike({ DeletionProtection: true }),
    });
    t(dev, 'Database').hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtection: false }),
    });
  });

  it('generates and rotates the credentials every 30 days', () => {
    const d = t(dev, 'Database');
    d.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password' }),
    });
    d.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
  });
});

describe('DmsStack', () => {
  it('authenticates both endpoints through Secrets Manager, with TLS', () => {
    const endpoints = resourcesOf(t(dev, 'Dms'), 'AWS::DMS::Endpoint');
    expect(endpoints).toHaveLength(2);
    for (const [, p] of endpoints) {
      expect(p.MySqlSettings.SecretsManagerSecretId).toBeDefined();
      expect(p.MySqlSettings.SecretsManagerAccessRoleArn).toBeDefined();
      expect(p.Password).toBeUndefined();
      expect(p.Username).toBeUndefined();
      expect(p.SslMode).toBe('require');
    }
  });

  it('keeps the replication instance private, Multi-AZ only in prod', () => {
    t(dev, 'Dms').hasResourceProperties('AWS::DMS::ReplicationInstance', {
      ReplicationInstanceClass: 'dms.t3.small',
      PubliclyAccessible: false,
      MultiAZ: false,
    });
    t(prod, 'Dms').hasResourceProperties('AWS::DMS::ReplicationInstance', {
      ReplicationInstanceClass: 'dms.r6i.large',
      MultiAZ: true,
      PubliclyAccessible: false,
    });
  });

  it('owns a full-load-and-CDC task whose mappings are an allowlist', () => {
    const [[, task]] = resourcesOf(t(dev, 'Dms'), 'Custom::DmsReplicationTask') as [[string, Record<string, any>]];
    expect(task.MigrationType).toBe('full-load-and-cdc');
    const mappings = JSON.parse(task.TableMappings) as {
      rules: { 'rule-action': string; 'object-locator': { 'schema-name': string } }[];
    };
    const included = mappings.rules
      .filter((r) => r['rule-action'] === 'include')
      .map((r) => r['object-locator']['schema-name']);
    expect(new Set(included)).toEqual(new Set(['inventory', 'catalog']));
    const settings = JSON.parse(task.ReplicationTaskSettings);
    expect(settings.ValidationSettings.EnableValidation).toBe(true);
    expect(settings.Logging.EnableLogging).toBe(true);
  });

  it('creates the account-wide DMS roles only if absent (in NetworkStack, well before DMS needs them)', () => {
    const roles = resourcesOf(t(dev, 'Network'), 'AWS::IAM::Role')
      .map(([, p]) => p.RoleName)
      .filter(Boolean);
    expect(roles).not.toContain('dms-vpc-role');
    const creates = resourcesOf(t(dev, 'Network'), 'Custom::AWS').map(([, p]) => JSON.stringify(p.Update ?? p.Create));
    expect(
      creates.some((c) => c.includes('createRole') && c.includes('dms-vpc-role') && c.includes('EntityAlreadyExists')),
    ).toBe(true);
    expect(creates.some((c) => c.includes('createRole') && c.includes('dms-cloudwatch-logs-role'))).toBe(true);
  });
});

describe('DataSyncStack', () => {
  it('takes the agent AMI from the public SSM parameter', () => {
    const template = t(dev, 'DataSync').toJSON() as { Parameters: Record<string, { Default?: string }> };
    expect(Object.values(template.Parameters).map((p) => p.Default)).toContain('/aws/service/datasync/ami');
    t(dev, 'DataSync').hasResourceProperties('AWS::EC2::Instance', { InstanceType: 'm5.2xlarge' });
  });

  it('outputs activation status, agent ARN, instance id, S3 location and instructions', () => {
    const outputs = Object.keys(t(dev, 'DataSync').findOutputs('*'));
    for (const o of ['ActivationSuccess', 'AgentArn', 'AgentInstanceId', 'S3LocationArn', 'SetupInstructions']) {
      expect(outputs).toContain(o);
    }
  });

  it('writes only under incoming/ through its own bucket role', () => {
    t(dev, 'DataSync').hasResourceProperties('AWS::DataSync::LocationS3', { Subdirectory: '/incoming/' });
  });

  it('in dev, starts the agent before the weekly transfer and stops it after (cost); prod runs it always', () => {
    const d = t(dev, 'DataSync');
    const instance = Object.keys(d.findResources('AWS::EC2::Instance'))[0]!;
    const schedules = resourcesOf(d, 'AWS::Scheduler::Schedule').map(([, p]) => p);
    const call = (p: Record<string, any>) => JSON.stringify(p.Target.Arn).match(/aws-sdk:ec2:(\w+)/)?.[1];
    expect(schedules.map((p) => [call(p), p.ScheduleExpression, p.State])).toEqual([
      ['startInstances', 'cron(30 1 ? * MON *)', 'ENABLED'],
      ['stopInstances', 'cron(0 5 ? * MON *)', 'ENABLED'],
    ]);
    for (const p of schedules) expect(JSON.stringify(p.Target.Input)).toContain(`{"Ref":"${instance}"}`);
    // The transfer itself is scheduled inside that window.
    d.hasResourceProperties('Custom::DataSyncTransfer', { ScheduleExpression: 'cron(0 2 ? * MON *)' });
    // The schedules' role may start and stop that instance and nothing else.
    const statements = resourcesOf(d, 'AWS::IAM::Policy')
      .flatMap(([, p]) => p.PolicyDocument.Statement as Record<string, any>[])
      .filter((st) => JSON.stringify(st.Action).includes('Instances'));
    expect(statements.map((st) => st.Action).sort()).toEqual(['ec2:StartInstances', 'ec2:StopInstances']);
    for (const st of statements) expect(JSON.stringify(st.Resource)).toContain(`"Ref":"${instance}"`);
    t(prod, 'DataSync').resourceCountIs('AWS::Scheduler::Schedule', 0);
  });
});

describe('LoggingStack', () => {
  it('sizes OpenSearch per environment and never opens it to any principal', () => {
    t(dev, 'Logging').hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({ InstanceCount: 1, InstanceType: 't3.small.search' }),
      EBSOptions: Match.objectLike({ VolumeSize: 20 }),
    });
    t(prod, 'Logging').hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({
        InstanceCount: 2,
        InstanceType: 'r6g.large.search',
        ZoneAwarenessEnabled: true,
      }),
      EBSOptions: Match.objectLike({ VolumeSize: 100, VolumeType: 'gp3' }),
    });
    const [[, domain]] = resourcesOf(t(prod, 'Logging'), 'AWS::OpenSearchService::Domain') as [
      [string, Record<string, any>],
    ];
    // The access policy is applied by aws-cdk-lib's OpenSearchAccessPolicy resource; flatten its
    // Fn::Join and read the policy document it sends.
    const [[, applier]] = resourcesOf(t(prod, 'Logging'), 'Custom::OpenSearchAccessPolicy') as [
      [string, Record<string, any>],
    ];
    const call = (applier.Create['Fn::Join'][1] as unknown[])
      .map((part) => (typeof part === 'string' ? part : '"ROLE_REF"'))
      .join('');
    expect(call).toContain('\\"Action\\":\\"es:ESHttp*\\"');
    expect(call).not.toMatch(/\\"AWS\\":\\"\*\\"/);
    expect(call).not.toContain('es:*');
    expect(call.match(/\\"Principal\\":\{\\"AWS\\":\[([^\]]*)\]/)![1]).toMatch(
      /^\\""ROLE_REF"\\"(,\\""ROLE_REF"\\")*$/,
    );
    expect(domain.DomainEndpointOptions).toMatchObject({ EnforceHTTPS: true });
    expect(domain.NodeToNodeEncryptionOptions).toEqual({ Enabled: true });
    expect(domain.EncryptionAtRestOptions).toMatchObject({ Enabled: true });
    expect(domain.AdvancedSecurityOptions).toMatchObject({ Enabled: true });
  });
});

describe('GlueStack', () => {
  const glue = () => t(dev, 'Glue');
  const job = () => resourcesOf(glue(), 'AWS::Glue::Job')[0]![1];

  it('runs the validation script from a CDK asset on Glue 5.1 with Python 3', () => {
    expect(job().GlueVersion).toBe('5.1');
    expect(job().Command).toMatchObject({ Name: 'glueetl', PythonVersion: '3' });
    expect(JSON.stringify(job().Command.ScriptLocation)).toContain('cdk-hnb659fds-assets');
    expect(JSON.stringify(job().DefaultArguments['--extra-py-files'])).toContain('cdk-hnb659fds-assets');
  });

  it('turns off bookmarks (boto3 reads), turns on continuous logs and metrics, with a 60-minute timeout and configured retries', () => {
    expect(job().DefaultArguments).toMatchObject({
      '--job-bookmark-option': 'job-bookmark-disable',
      '--custom-logGroup-prefix': GLUE_LOG_PREFIX,
      '--enable-metrics': '',
      '--reports_prefix': 'reports/',
      '--validated_prefix': 'validated/',
      '--quarantine_prefix': 'quarantine/',
    });
    expect(job().Timeout).toBe(60);
    expect(job().MaxRetries).toBe(1);
    expect(resourcesOf(t(prod, 'Glue'), 'AWS::Glue::Job')[0]![1].MaxRetries).toBe(2);
  });

  it('encrypts S3 output, logs and bookmarks with KMS through a security configuration', () => {
    glue().hasResourceProperties('AWS::Glue::SecurityConfiguration', {
      EncryptionConfiguration: {
        S3Encryptions: [{ S3EncryptionMode: 'SSE-KMS', KmsKeyArn: Match.anyValue() }],
        CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS', KmsKeyArn: Match.anyValue() },
        JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS', KmsKeyArn: Match.anyValue() },
      },
    });
    expect(job().SecurityConfiguration).toBeDefined();
  });

  it('scopes the job role to its prefixes: reads incoming/, writes reports/, validated/, quarantine/', () => {
    const statements = resourcesOf(glue(), 'AWS::IAM::Policy').flatMap(([, p]) => p.PolicyDocument.Statement as any[]);
    const s3Resources = (action: string) =>
      statements
        .filter((s) =>
          ([] as string[])
            .concat(s.Action)
            .some((a) => a === action || (a.endsWith('*') && action.startsWith(a.slice(0, -1)))),
        )
        .flatMap((s) => ([] as unknown[]).concat(s.Resource).map((r) => JSON.stringify(r)))
        .filter((r) => !r.includes('cdk-hnb659fds-assets'));
    const prefixes = (rs: string[]) =>
      [...new Set(rs.map((r) => (r.match(/\/([a-z]+)\/\*"/) ?? [])[1]).filter(Boolean))].sort();
    expect(prefixes(s3Resources('s3:PutObject'))).toEqual(['quarantine', 'reports', 'validated']);
    expect(prefixes(s3Resources('s3:GetObject'))).toEqual(['incoming', 'quarantine', 'validated']);
    expect(statements.some((s) => ([] as string[]).concat(s.Action).includes('s3:DeleteObject'))).toBe(false);
    expect(statements.some((s) => ([] as string[]).concat(s.Action).includes('sns:Publish'))).toBe(true);
  });

  it('pre-creates the Glue 5 log groups with retention and the data key', () => {
    for (const suffix of ['error', 'output']) {
      glue().hasResourceProperties('AWS::Logs::LogGroup', {
        // The prefix, then the group Glue 5 writes to under it.
        LogGroupName: { 'Fn::Join': ['', [...GLUE_LOG_PREFIX['Fn::Join'][1], `/${suffix}`]] },
        RetentionInDays: 14,
        KmsKeyId: Match.anyValue(),
      });
    }
  });

  it('has a Glue database for the datasets', () => {
    glue().resourceCountIs('AWS::Glue::Database', 1);
  });
});

describe('MonitoringStack Aurora alarms', () => {
  // An alarm names its metric directly, or (with a label, as cdk-monitoring-constructs sets one) in one MetricStat.
  const metricOf = (p: Record<string, any>): { MetricName?: string; Namespace?: string } =>
    p.MetricName ? p : (p.Metrics?.[0]?.MetricStat?.Metric ?? {});
  const auroraAlarms = (templates: Record<string, Template>) =>
    resourcesOf(t(templates, 'Monitoring'), 'AWS::CloudWatch::Alarm')
      .map(([, p]) => p)
      .filter((p) => {
        const m = metricOf(p);
        return ['CPUUtilization', 'FreeableMemory'].includes(m.MetricName ?? '') && m.Namespace === 'AWS/RDS';
      });

  it('treat silence as healthy only where the cluster pauses when idle (dev)', () => {
    expect(auroraAlarms(dev).map((p) => p.TreatMissingData)).toEqual(['notBreaching', 'notBreaching']);
    expect(auroraAlarms(prod).map((p) => p.TreatMissingData)).toEqual(['breaching', 'breaching']);
  });
});
