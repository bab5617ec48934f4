import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EnvName, EnvironmentConfig } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { ManagedReplicationTask } from '../../lib/constructs/managed-replication-task';
import { PaymentCutoverStage } from '../../stages/payment-cutover-stage';
import { buildPaymentStage, LivePaymentStage, synthPaymentStageLive } from '../support/payment-stage-fixture';
import { newApp, resourcesOf } from '../support/stage-fixture';

const PIPELINE_ACCOUNT = '111111111111';
const STACKS = ['Network', 'Replica', 'Source', 'Target', 'Dms', 'Operations', 'Monitoring', 'Cutover'] as const;

const cache = new Map<string, LivePaymentStage>();
/**
 * Synthesizes a payment stage with all three nag packs on (synth throws on any unacknowledged finding):
 * the committed config of `env`, or that config changed by `edit` (memoized under `key`).
 */
function synth(env: EnvName, edit?: (c: EnvironmentConfig) => EnvironmentConfig, key: string = env): LivePaymentStage {
  const hit = cache.get(key);
  if (hit) return hit;
  const result = edit
    ? buildPaymentStage(edit(loadEnvironmentConfig(env, () => undefined, {})))
    : synthPaymentStageLive(env);
  cache.set(key, result);
  return result;
}

const only = <T>(t: Template, type: string): [string, T] => {
  const all = resourcesOf(t, type);
  expect(all).toHaveLength(1);
  return all[0] as [string, T];
};

describe.each(['dev', 'staging', 'prod'] as const)('PaymentCutoverStage (%s)', (env) => {
  const { stage, t } = synth(env);
  const config = stage.config;

  it('synthesizes eight stacks with zero unacknowledged AwsSolutions, PCI DSS and NIST findings', () => {
    expect(stage.node.children.filter((c) => c instanceof Stack).map((c) => c.node.id)).toEqual([...STACKS]);
    expect(stage.complianceChecks).toEqual([
      'cdk-nag AwsSolutions',
      'cdk-nag PCI DSS 3.2.1',
      'cdk-nag NIST 800-53 rev 5',
    ]);
  });

  it('runs in us-east-1 with the replica stack in us-west-2', () => {
    for (const id of STACKS) {
      expect(Stack.of(stage.node.findChild(id)).region).toBe(id === 'Replica' ? 'us-west-2' : 'us-east-1');
    }
  });

  it('sizes the VPC and NAT gateways from config; public subnets assign no public IPs', () => {
    t.Network.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: config.network.cidr });
    t.Network.resourceCountIs('AWS::EC2::NatGateway', config.network.natGateways);
    t.Network.resourceCountIs('AWS::EC2::FlowLog', 1);
    for (const [, subnet] of resourcesOf(t.Network, 'AWS::EC2::Subnet')) {
      expect(subnet.MapPublicIpOnLaunch).not.toBe(true);
    }
  });

  it('opens the databases only to both services (the pointer picks one), DMS, rotation and the fence, on 5432', () => {
    const ingress = resourcesOf(t.Network, 'AWS::EC2::SecurityGroupIngress').map(([, p]) => p);
    const dbGroups = ['SourceDatabaseSecurityGroup', 'TargetDatabaseSecurityGroup'];
    for (const rule of ingress) {
      const target = JSON.stringify(rule.GroupId);
      if (!dbGroups.some((g) => target.includes(g))) continue;
      expect(rule).toMatchObject({ FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp' });
      expect(rule.CidrIp).toBeUndefined();
      expect(JSON.stringify(rule.SourceSecurityGroupId)).toMatch(
        /(Source|Target)ServiceSecurityGroup|DmsSecurityGroup|RotationSecurityGroup|FenceSecurityGroup/,
      );
    }
    // Each database admits both services: before the flip the target's tasks write to the source,
    // after it the source's tasks (still taking the last share) write to the target.
    for (const db of dbGroups) {
      const from = ingress
        .filter((r) => JSON.stringify(r.GroupId).includes(db))
        .map((r) => JSON.stringify(r.SourceSecurityGroupId).match(/"(\w+?)SecurityGroup[0-9A-F]{8}"/)?.[1])
        .sort();
      expect(from).toEqual(['Dms', 'Fence', 'Rotation', 'SourceService', 'TargetService']);
    }
    const dbRules = ingress.filter((r) => dbGroups.some((g) => JSON.stringify(r.GroupId).includes(g)));
    expect(dbRules).toHaveLength(10);
    // Only the load balancers take traffic from the internet, on their listener ports.
    const [, sgs] = [null, resourcesOf(t.Network, 'AWS::EC2::SecurityGroup')];
    for (const [id, sg] of sgs) {
      for (const rule of sg.SecurityGroupIngress ?? []) {
        expect({ id, cidr: rule.CidrIp }).toEqual({
          id: expect.stringMatching(/LoadBalancerSecurityGroup/),
          cidr: '0.0.0.0/0',
        });
        expect(rule.FromPort).toBe(80);
      }
    }
  });

  it('keeps the keys rotating', () => {
    for (const [, key] of resourcesOf(t.Network, 'AWS::KMS::Key')) expect(key.EnableKeyRotation).toBe(true);
  });

  describe.each(['Source', 'Target'] as const)('%s environment', (side) => {
    const tt = t[side];
    const role = side.toLowerCase();

    it('runs PostgreSQL 17, encrypted, private, IAM auth, logs exported, sized per environment', () => {
      tt.hasResourceProperties('AWS::RDS::DBInstance', {
        Engine: 'postgres',
        EngineVersion: '17',
        DBInstanceIdentifier: `payment-${env}-${role}`,
        DBInstanceClass: config.database.instanceClass,
        AllocatedStorage: String(config.database.allocatedStorageGb),
        StorageType: 'gp3',
        StorageEncrypted: true,
        KmsKeyId: Match.anyValue(),
        MultiAZ: config.database.multiAz,
        PubliclyAccessible: false,
        EnableIAMDatabaseAuthentication: true,
        EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
        BackupRetentionPeriod: config.database.backupRetentionDays,
        AutoMinorVersionUpgrade: true,
        DeletionProtection: config.removal === 'retain',
      });
    });

    it('forces TLS and turns on logical replication (forward task from the source, reverse from the target)', () => {
      const [, group] = only<Record<string, any>>(tt, 'AWS::RDS::DBParameterGroup');
      expect(group.Family).toBe('postgres17');
      expect(group.Parameters['rds.force_ssl']).toBe('1');
      expect(group.Parameters).toMatchObject({
        'rds.logical_replication': '1',
        max_replication_slots: String(config.dms.replicationSlots),
      });
      expect(Number(group.Parameters.max_wal_senders)).toBeGreaterThanOrEqual(config.dms.replicationSlots);
      // DMS accepts 0 or at least 10 000 ms.
      expect(Number(group.Parameters.wal_sender_timeout)).toBeGreaterThanOrEqual(10000);
    });

    it('rotates the master and the DMS user secrets every 30 days; the DMS user first after one period', () => {
      const schedules = resourcesOf(tt, 'AWS::SecretsManager::RotationSchedule').map(([, p]) => p);
      expect(schedules).toHaveLength(2);
      for (const s of schedules) expect(s.RotationRules.ScheduleExpression).toBe('rate(30 days)');
      expect(schedules.map((s) => s.RotateImmediatelyOnUpdate).sort()).toEqual([false, true]);
    });

    it('gives DMS its own secret with host, port and database, and no literal password', () => {
      const secrets = resourcesOf(tt, 'AWS::SecretsManager::Secret').map(([, p]) => JSON.stringify(p));
      const dms = secrets.find((s) => s.includes('dms_user'))!;
      expect(dms).toBeDefined();
      expect(dms).toMatch(/"host\\":/);
      expect(dms).toContain('Endpoint.Address');
      expect(dms).toMatch(/"port\\":5432/);
      expect(dms).toMatch(/"dbname\\":\\"payments\\"/);
      expect(dms).toContain('"GenerateStringKey":"password"');
      expect(JSON.stringify(tt.toJSON())).not.toMatch(/"(Password|MasterUserPassword)":"[^"{]/);
    });

    it('runs the service on Fargate from the configured ECR image, privately, with rollback on failed deployments', () => {
      tt.hasResourceProperties('AWS::ECS::Service', {
        LaunchType: 'FARGATE',
        DesiredCount: config.service.desiredCount,
        DeploymentConfiguration: Match.objectLike({
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
          MinimumHealthyPercent: 100,
        }),
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      });
      const [, task] = only<Record<string, any>>(tt, 'AWS::ECS::TaskDefinition');
      expect(task).toMatchObject({ Cpu: String(config.service.cpu), Memory: String(config.service.memoryMiB) });
      const image = JSON.stringify(task.ContainerDefinitions[0].Image);
      expect(image).toContain(`/${config.service.ecrRepositoryName}:${config.service.imageTag}`);
      expect(task.ContainerDefinitions[0]).toMatchObject({
        ReadonlyRootFilesystem: true,
        User: '1000',
        PortMappings: [{ ContainerPort: config.service.containerPort, Protocol: 'tcp' }],
      });
    });

    it('scales on CPU and memory and health-checks the configured path', () => {
      tt.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        MinCapacity: config.service.minCount,
        MaxCapacity: config.service.maxCount,
      });
      const metrics = resourcesOf(tt, 'AWS::ApplicationAutoScaling::ScalingPolicy').map(
        ([, p]) => p.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType,
      );
      expect(metrics.sort()).toEqual(['ECSServiceAverageCPUUtilization', 'ECSServiceAverageMemoryUtilization']);
      tt.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        HealthCheckPath: config.service.healthCheckPath,
        TargetType: 'ip',
        Port: config.service.containerPort,
      });
    });

    it('serves HTTP without a certificate, drops invalid headers and writes access logs', () => {
      const [, alb] = only<Record<string, any>>(tt, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
      const attrs = Object.fromEntries(alb.LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
      expect(attrs).toMatchObject({
        'routing.http.drop_invalid_header_fields.enabled': 'true',
        'access_logs.s3.enabled': 'true',
        'deletion_protection.enabled': String(config.removal === 'retain'),
      });
      expect(alb.Scheme).toBe('internet-facing');
      const [, listener] = only<Record<string, any>>(tt, 'AWS::ElasticLoadBalancingV2::Listener');
      expect(listener).toMatchObject({ Port: 80, Protocol: 'HTTP' });
      expect(stage[role as 'source' | 'target'].protocol).toBe('HTTP');
    });

    it('keeps transaction logs versioned, KMS-encrypted, TLS-only, logged and archived', () => {
      const buckets = resourcesOf(tt, 'AWS::S3::Bucket');
      const [, logBucket] = buckets.find(([id]) => id.includes('LogBucket') && !id.includes('AccessLog'))!;
      expect(logBucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(
        logBucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
      ).toBe('aws:kms');
      expect(logBucket.LoggingConfiguration.DestinationBucketName).toBeDefined();
      const rules = logBucket.LifecycleConfiguration.Rules.map((r: any) => r.Id);
      expect(rules).toEqual(['archive-transaction-logs', 'expire-noncurrent-versions', 'abort-incomplete-uploads']);
      const policies = JSON.stringify(resourcesOf(tt, 'AWS::S3::BucketPolicy').map(([, p]) => p));
      expect(policies).toContain('"aws:SecureTransport":"false"');
    });

    it(`${env === 'prod' ? 'retains and snapshots' : 'destroys'} stateful resources on deletion`, () => {
      const json = tt.toJSON() as { Resources: Record<string, { Type: string; DeletionPolicy?: string }> };
      const policy = (type: string) =>
        Object.values(json.Resources)
          .filter((r) => r.Type === type)
          .map((r) => r.DeletionPolicy);
      if (env === 'prod') {
        expect(policy('AWS::RDS::DBInstance')).toEqual(['Snapshot']);
        expect(new Set(policy('AWS::S3::Bucket'))).toEqual(new Set(['Retain']));
        tt.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
      } else {
        expect(policy('AWS::RDS::DBInstance')).toEqual(['Delete']);
        expect(new Set(policy('AWS::S3::Bucket'))).toEqual(new Set(['Delete']));
        tt.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
      }
    });
  });

  it('replicates the source logs to the replica region with RTC, metrics, delete markers and the replica key', () => {
    const [, source] = resourcesOf(t.Source, 'AWS::S3::Bucket').find(([, b]) => b.ReplicationConfiguration)!;
    const [rule] = source.ReplicationConfiguration.Rules;
    expect(rule).toMatchObject({
      Status: 'Enabled',
      Filter: { Prefix: '' },
      DeleteMarkerReplication: { Status: 'Enabled' },
      SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
      Destination: {
        ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
        Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
      },
    });
    const dest = JSON.stringify(rule.Destination);
    expect(dest).toContain(`payment-${env}-log-replica-`);
    expect(dest).toContain(`:kms:us-west-2:`);
    expect(dest).toContain(`alias/payment-${env}-log-replica`);
    // The replica bucket has exactly the name the rule writes to.
    const [, replica] = resourcesOf(t.Replica, 'AWS::S3::Bucket').find(([id]) => id.startsWith('ReplicaBucket'))!;
    expect(replica.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(JSON.stringify(replica.BucketName)).toContain(`payment-${env}-log-replica-`);
    t.Replica.hasResourceProperties('AWS::KMS::Alias', { AliasName: `alias/payment-${env}-log-replica` });
    // S3 checks the destination when the rule is put: the replica stack deploys first.
    expect(stage.sourceStack.dependencies).toContain(stage.replica);
  });

  it('gives replication exactly what it needs', () => {
    const policies = resourcesOf(t.Source, 'AWS::IAM::Policy').filter(([id]) => id.startsWith('LogReplication'));
    expect(policies).toHaveLength(1);
    const statements = policies[0]![1].PolicyDocument.Statement as { Sid: string; Action: string | string[] }[];
    const actions = Object.fromEntries(statements.map((s) => [s.Sid, [s.Action].flat().sort()]));
    expect(actions).toEqual({
      ReadReplicationConfiguration: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
      ReadSourceVersions: ['s3:GetObjectVersionAcl', 's3:GetObjectVersionForReplication', 's3:GetObjectVersionTagging'],
      WriteReplicas: ['s3:ReplicateDelete', 's3:ReplicateObject', 's3:ReplicateTags'],
      DecryptSource: ['kms:Decrypt'],
      EncryptReplicas: ['kms:Encrypt', 'kms:GenerateDataKey'],
    });
    const encrypt = statements.find((s) => s.Sid === 'EncryptReplicas') as any;
    expect(encrypt.Condition.StringEquals['kms:ViaService']).toBe('s3.us-west-2.amazonaws.com');
  });

  it('runs DMS full load + CDC through secrets, with heartbeat, allowlisted schemas, validation and DO_NOTHING', () => {
    t.Dms.hasResourceProperties('AWS::DMS::ReplicationInstance', {
      PubliclyAccessible: false,
      ReplicationInstanceClass: config.dms.instanceClass,
      MultiAZ: config.dms.multiAz,
      ReplicationInstanceIdentifier: `payment-${env}-replication`,
    });
    const endpoints = resourcesOf(t.Dms, 'AWS::DMS::Endpoint').map(([, p]) => p);
    // Forward source and target, and the reverse pair (target read as a source, source written as a target).
    expect(endpoints.map((e) => e.EndpointType).sort()).toEqual(['source', 'source', 'target', 'target']);
    for (const e of endpoints) {
      expect(e).toMatchObject({ EngineName: 'postgres', SslMode: 'require' });
      expect(e.PostgreSqlSettings.SecretsManagerSecretId).toBeDefined();
      expect(e.PostgreSqlSettings.SecretsManagerAccessRoleArn).toBeDefined();
      expect(e.Password).toBeUndefined();
      expect(e.Username).toBeUndefined();
    }
    for (const e of endpoints.filter((e) => e.EndpointType === 'source')) {
      expect(e.PostgreSqlSettings.HeartbeatEnable).toBe(true);
    }

    const tasks = resourcesOf(t.Dms, 'Custom::DmsReplicationTask').map(([, p]) => p as Record<string, any>);
    expect(tasks).toHaveLength(2);
    const task = tasks.find((x) => x.ReplicationTaskIdentifier === `payment-${env}-forward`)!;
    const reverse = tasks.find((x) => x.ReplicationTaskIdentifier === `payment-${env}-reverse`)!;
    // The reverse task replicates the same tables, CDC only, from the target's endpoint to the source's.
    expect(reverse.MigrationType).toBe('cdc');
    expect(reverse.TableMappings).toBe(task.TableMappings);
    const endpointId = (ref: unknown) => (ref as { Ref: string }).Ref;
    const endpointsById = Object.fromEntries(resourcesOf(t.Dms, 'AWS::DMS::Endpoint'));
    const secretOf = (ref: unknown) =>
      JSON.stringify(endpointsById[endpointId(ref)]!.PostgreSqlSettings.SecretsManagerSecretId);
    expect(secretOf(reverse.SourceEndpointArn)).toBe(secretOf(task.TargetEndpointArn));
    expect(secretOf(reverse.TargetEndpointArn)).toBe(secretOf(task.SourceEndpointArn));
    expect(task.MigrationType).toBe('full-load-and-cdc');
    expect(task.ReplicationTaskIdentifier).toBe(`payment-${env}-forward`);
    const mappings = JSON.parse(task.TableMappings) as { rules: any[] };
    const includes = mappings.rules.filter((r) => r['rule-action'] === 'include').map((r) => r['object-locator']);
    expect(includes).toEqual([
      { 'schema-name': 'payments', 'table-name': '%' },
      { 'schema-name': 'ledger', 'table-name': 'accounts' },
      { 'schema-name': 'ledger', 'table-name': 'entries' },
      { 'schema-name': 'ledger', 'table-name': 'transfers' },
    ]);
    const settings = JSON.parse(task.ReplicationTaskSettings);
    expect(settings.FullLoadSettings.TargetTablePrepMode).toBe('DO_NOTHING');
    expect(settings.ValidationSettings.EnableValidation).toBe(true);
    expect(settings.Logging.EnableLogging).toBe(true);
    // The account-wide DMS roles are ensured by custom resources, never declared (no collision).
    for (const [, role] of resourcesOf(t.Network, 'AWS::IAM::Role')) {
      expect(String(role.RoleName ?? '')).not.toMatch(/^dms-(vpc|cloudwatch-logs)-role$/);
    }
    expect(JSON.stringify(t.Network.toJSON())).toContain('dms-vpc-role');
  });

  it('lets the smoke role only put and get smoke/ objects and describe tasks', () => {
    t.Operations.hasResourceProperties('AWS::IAM::Role', {
      RoleName: `payment-${env}-smoke`,
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { AWS: Match.stringLikeRegexp(`:iam::${PIPELINE_ACCOUNT}:root`) } })],
      },
    });
    const [, policy] = only<Record<string, any>>(t.Operations, 'AWS::IAM::Policy');
    const statements = policy.PolicyDocument.Statement as { Sid: string; Action: string; Resource: unknown }[];
    expect(Object.fromEntries(statements.map((s) => [s.Sid, s.Action]))).toEqual({
      PutSmokeObjects: 's3:PutObject',
      EncryptSmokeObjects: 'kms:GenerateDataKey',
      GetSmokeReplicas: 's3:GetObject',
      DecryptSmokeReplicas: 'kms:Decrypt',
      DescribeTasks: 'dms:DescribeReplicationTasks',
    });
    expect(JSON.stringify(statements.find((s) => s.Sid === 'PutSmokeObjects')!.Resource)).toContain('/smoke/*');
    expect(JSON.stringify(statements.find((s) => s.Sid === 'GetSmokeReplicas')!.Resource)).toContain('/smoke/*');
  });

  it('writes the runbook and the smoke-test values as outputs', () => {
    const outputs = Object.keys(t.Operations.toJSON().Outputs);
    for (const o of [
      'RunbookCheckReplication',
      'RunbookStartReplication',
      'RunbookStopReplication',
      'RunbookCdcResumePoint',
      'RunbookResumeReplication',
      'RunbookCurrentWeights',
      'RunbookShiftTraffic',
      'RunbookRollBack',
      'SourceHealthEndpoint',
      'TargetHealthEndpoint',
    ]) {
      expect(outputs).toContain(o);
    }
    expect(Object.keys(stage.operations.smokeOutputs).sort()).toEqual(
      [
        'REPLICA_BUCKET',
        'REPLICA_REGION',
        'REPLICATION_TASK_ARN',
        'REPLICATION_TIME_MINUTES',
        'SMOKE_ROLE_ARN',
        'SOURCE_HEALTH_URL',
        'SOURCE_LOG_BUCKET',
        'TARGET_HEALTH_URL',
      ].sort(),
    );
    const health = JSON.stringify(t.Operations.toJSON().Outputs.SourceHealthEndpoint.Value);
    expect(health).toContain('http://');
    expect(health).toContain(config.service.healthCheckPath);
  });

  it('tags every taggable resource with Environment, MigrationPhase and CostCenter', () => {
    let tagged = 0;
    for (const id of STACKS) {
      const resources = (t[id].toJSON() as { Resources: Record<string, { Properties?: { Tags?: unknown } }> })
        .Resources;
      for (const r of Object.values(resources)) {
        const tags = r.Properties?.Tags;
        if (!Array.isArray(tags)) continue;
        tagged++;
        const byKey = Object.fromEntries((tags as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
        expect(byKey).toMatchObject({
          Environment: env,
          MigrationPhase: config.migrationPhase,
          CostCenter: config.costCenter,
        });
      }
    }
    expect(tagged).toBeGreaterThan(30);
  });
});

describe('PaymentCutoverStage contract and options', () => {
  it('exposes the objects the monitoring, routing and smoke pieces attach to', () => {
    const { stage } = synth('dev');
    for (const side of [stage.source, stage.target]) {
      expect(side.database).toBeInstanceOf(rds.DatabaseInstance);
      expect(side.service).toBeInstanceOf(ecs.FargateService);
      expect(side.loadBalancer).toBeInstanceOf(elbv2.ApplicationLoadBalancer);
      expect(side.targetGroup).toBeInstanceOf(elbv2.ApplicationTargetGroup);
      expect(side.logBucket).toBeInstanceOf(s3.Bucket);
      expect(side.healthCheckPath).toBe('/health');
    }
    expect(stage.replicationTask).toBeInstanceOf(ManagedReplicationTask);
    expect(stage.replicationInstanceIdentifier).toBe('payment-dev-replication');
    expect(stage.logReplication.ruleId).toBe('replicate-transaction-logs');
    expect(stage.logReplication.sourceBucket).toBe(stage.source.logBucket);
    expect(stage.envName).toBe('dev');
  });

  it('serves HTTPS with a certificate and redirects HTTP to it', () => {
    const cert = 'arn:aws:acm:us-east-1:222222222222:certificate/0b5e6f1c-1111-2222-3333-444455556666';
    const { stage, t } = synth(
      'dev',
      (c) => ({ ...c, payment: { ...c.payment, service: { ...c.payment.service, certificateArn: cert } } }),
      'dev-https',
    );
    expect(stage.source.protocol).toBe('HTTPS');
    const listeners = resourcesOf(t.Source, 'AWS::ElasticLoadBalancingV2::Listener').map(([, p]) => p);
    const https = listeners.find((l) => l.Port === 443)!;
    expect(https).toMatchObject({ Protocol: 'HTTPS', Certificates: [{ CertificateArn: cert }] });
    const http = listeners.find((l) => l.Port === 80)!;
    expect(http.DefaultActions[0]).toMatchObject({
      Type: 'redirect',
      RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
    });
    expect(JSON.stringify(t.Operations.toJSON().Outputs.SourceHealthEndpoint.Value)).toContain('https://');
  });

  it('names a sandbox stage after its sandbox so two stages never collide', () => {
    const app = newApp();
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    const stage = new PaymentCutoverStage(app, 'S', { config, namePrefix: 'payment-dev-alice', nagChecks: false });
    const t = Template.fromStack(stage.source.node.scope as Stack);
    t.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceIdentifier: 'payment-dev-alice-source' });
  });
});

describe('compliance checks reach the payment stacks and stay in the payment stage', () => {
  it('reports PCI DSS and NIST findings planted in a payment stack', () => {
    const app = newApp();
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    const stage = new PaymentCutoverStage(app, 'Planted', { config });
    const planted = new s3.Bucket(stage.sourceStack, 'PlantedBucket', { enforceSSL: true });
    Validations.of(planted).acknowledge(
      { id: 'AwsSolutions-S1', reason: 'test: only the PCI and NIST findings are wanted' },
      { id: 'AwsSolutions-S10', reason: 'test' },
    );
    expect(() => app.synth()).toThrow(
      /Planted\/Source\/PlantedBucket\/Resource[\s\S]*PCI\.DSS\.321-S3BucketVersioningEnabled/,
    );
  });

  it('passes once the findings are acknowledged on the planted resource only', () => {
    const app = newApp();
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    // With the smoke role, as the pipeline builds it: without one the Operations stack holds no resource, which
    // aws-cdk-lib's template validation (on unless CDK_VALIDATION=false) refuses.
    const stage = new PaymentCutoverStage(app, 'Acked', { config, smokeTestTrustedAccount: PIPELINE_ACCOUNT });
    const planted = new s3.Bucket(stage.sourceStack, 'PlantedBucket', {
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Stated, or the stage's encryption-at-rest check refuses the bucket before nag is asked.
      encryption: s3.BucketEncryption.S3_MANAGED,
    });
    const rules = [
      'S3BucketLoggingEnabled',
      'S3BucketReplicationEnabled',
      'S3BucketVersioningEnabled',
      'S3DefaultEncryptionKMS',
    ];
    Validations.of(planted).acknowledge(
      { id: 'AwsSolutions-S1', reason: 'test' },
      { id: 'AwsSolutions-S10', reason: 'test' },
      ...['PCI.DSS.321', 'NIST.800.53.R5'].flatMap((pack) =>
        rules.map((r) => ({ id: `${pack}-${r}`, reason: 'test' })),
      ),
    );
    expect(() => app.synth()).not.toThrow();
  });
});

describe.each(['dev', 'prod'] as const)('PaymentCutoverStage (%s): cutover wiring', (env) => {
  const { stage, t } = synth(env);
  const pointerName = `/payment/${env}/cutover/database-pointer`;

  it('creates the database pointer with the source, naming the source database, before the source service starts', () => {
    const creates = resourcesOf(t.Source, 'Custom::AWS').map(([id, p]) => [id, p.Create] as const);
    const pointer = creates.find(([, c]) => JSON.stringify(c).includes(pointerName));
    expect(pointer).toBeDefined();
    const create = JSON.stringify(pointer![1]);
    expect(create).toMatch(/writer\\+":\\+"source/);
    // The host is the source database's endpoint attribute.
    expect(create).toMatch(/EnvironmentDatabase[0-9A-F]{8}","Endpoint\.Address"/);
    const [, service] = only<Record<string, any>>(t.Source, 'AWS::ECS::Service');
    const dependsOn = (t.Source.toJSON().Resources as Record<string, any>)[
      resourcesOf(t.Source, 'AWS::ECS::Service')[0]![0]
    ].DependsOn as string[];
    expect(dependsOn).toContain(pointer![0]);
    expect(service).toBeDefined();
    // The target's stack reads the pointer the source creates, so it deploys after it.
    expect(stage.targetStack.dependencies.map((d) => d.node.id)).toContain('Source');
  });

  it.each(['Source', 'Target'] as const)(
    '%s tasks read the pointer as the secret DB_POINTER and never a fixed host',
    (side) => {
      const [, taskDefinition] = only<Record<string, any>>(t[side], 'AWS::ECS::TaskDefinition');
      const [container] = taskDefinition.ContainerDefinitions as Record<string, any>[];
      expect(container!.Secrets).toEqual([
        { Name: 'DB_POINTER', ValueFrom: expect.objectContaining({ 'Fn::Join': expect.anything() }) },
      ]);
      expect(JSON.stringify(container!.Secrets)).toContain(`parameter${pointerName}`);
      const names = (container!.Environment as { Name: string }[]).map((e) => e.Name);
      expect(names).not.toContain('DB_HOST');
      expect(names).not.toContain('DB_PORT');
    },
  );

  it('lets each service sign in to the other database as payment_app (the pointer picks which)', () => {
    const policies = resourcesOf(t.Cutover, 'AWS::IAM::Policy');
    for (const [role, db] of [
      ['Source', 'Target'],
      ['Target', 'Source'],
    ] as const) {
      const [, policy] = policies.find(([id]) => id.startsWith(`${role}ServiceConnectsTo${db}`))!;
      // Attached to the other stack's task role, granting that database's payment_app user only.
      expect(JSON.stringify(policy.Roles)).toMatch(new RegExp(`Pay-${role}".*EnvironmentTaskDefinitionTaskRole`));
      expect(policy.PolicyDocument.Statement).toHaveLength(1);
      const [statement] = policy.PolicyDocument.Statement as Record<string, any>[];
      expect(statement).toMatchObject({ Action: 'rds-db:connect', Effect: 'Allow' });
      const resource = JSON.stringify(statement!.Resource);
      expect(resource).toContain(':dbuser:');
      expect(resource).toContain('/payment_app');
      expect(resource).toMatch(new RegExp(`Pay-${db}".*EnvironmentDatabase.*DbiResourceId`));
    }
  });

  it('gives the fence function PostgreSQL to both databases and HTTPS to the Secrets Manager endpoint only', () => {
    const [fenceId] = resourcesOf(t.Network, 'AWS::EC2::SecurityGroup').find(([id]) =>
      id.startsWith('FenceSecurityGroup'),
    )!;
    const egress = resourcesOf(t.Network, 'AWS::EC2::SecurityGroupEgress')
      .map(([, p]) => p)
      .filter((p) => JSON.stringify(p.GroupId).includes(fenceId));
    const to = egress
      .map(
        (p) =>
          `${JSON.stringify(p.DestinationSecurityGroupId).match(/"(\w+?)SecurityGroup[0-9A-F]{8}"/)?.[1]}:${p.FromPort}`,
      )
      .sort();
    expect(to).toEqual(['Endpoint:443', 'SourceDatabase:5432', 'TargetDatabase:5432']);
    const [, fence] = resourcesOf(t.Cutover, 'AWS::Lambda::Function').find(([id]) =>
      id.startsWith('WorkflowFenceFunction'),
    )!;
    expect(JSON.stringify(fence.VpcConfig.SecurityGroupIds)).toContain(fenceId);
  });

  it("encrypts the cutover functions' dead-letter queues with a key of the same stack (CT.SQS.PR.2 reads no weak reference)", () => {
    const queues = resourcesOf(t.Cutover, 'AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThanOrEqual(3);
    for (const [, queue] of queues) {
      expect(queue.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^QueueKey/), 'Arn'] });
    }
  });

  it('writes the weighted records into the configured zone, target behind its health check, source at weight 100', () => {
    const [, records] = only<Record<string, any>>(t.Cutover, 'Custom::WeightedServiceRecords');
    expect(records.HostedZoneId).toBe(stage.config.dns.hostedZoneId);
    expect(records.RecordName).toBe(`${stage.config.dns.recordName.replace(/\.$/, '')}.`.toLowerCase());
    const bySet = Object.fromEntries((records.Records as Record<string, any>[]).map((r) => [r.SetIdentifier, r]));
    expect(bySet.source).toMatchObject({ InitialWeight: 100 });
    expect(bySet.source.HealthCheckId).toBeUndefined();
    expect(bySet.target).toMatchObject({ InitialWeight: 0, HealthCheckId: expect.anything() });
    t.Cutover.resourceCountIs('AWS::Route53::HealthCheck', 2);
  });

  it('builds the workflow over both tasks, the app alarms and the stage topic; the CLI finds it by parameter', () => {
    t.Cutover.hasResourceProperties('AWS::SSM::Parameter', {
      Name: `/payment/${env}/cutover/state-machine-arn`,
    });
    const [, machine] = only<Record<string, any>>(t.Cutover, 'AWS::StepFunctions::StateMachine');
    const definition = JSON.stringify(machine.DefinitionString);
    // Both DMS tasks and every app alarm are named in the definition or the checks function's input.
    expect(definition).toContain('ReverseTask');
    expect(definition).toContain('ForwardTask');
    for (const alarm of stage.monitoring.appAlarms) {
      expect(JSON.stringify(stage.cutover.resolve(alarm.alarmName))).toBeDefined();
    }
    expect(stage.monitoring.appAlarms.length).toBeGreaterThan(0);
    expect(definition).toContain('AlarmTopic');
    // Every log group of the cutover stack is encrypted with the stage's log key, but the one aws-cdk-lib
    // creates for its AwsCustomResource singleton (no key option; acknowledged as control-plane logs).
    for (const [id, group] of resourcesOf(t.Cutover, 'AWS::Logs::LogGroup')) {
      if (id.startsWith('AWS679f53fac002430cb0da5b7982bd2287')) continue;
      expect({ id, key: group.KmsKeyId }).toEqual({ id, key: expect.anything() });
    }
  });
});

describe('encryption at rest in the payment stage', () => {
  it('refuses a transaction-log bucket that falls back to SSE-S3', () => {
    const app = newApp();
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    const stage = new PaymentCutoverStage(app, 'Weak', { config, nagChecks: false });
    (stage.target.logBucket.node.defaultChild as s3.CfnBucket).bucketEncryption = {
      serverSideEncryptionConfiguration: [{ serverSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    };
    expect(() => app.synth()).toThrow(
      /Encryption at rest is off: S3 bucket encrypted with SSE-S3[\s\S]*Weak\/Target\/Environment\/LogBucket/,
    );
  });

  it('accepts the SSE-S3 access-log buckets, which S3 and ALB log delivery require', () => {
    const { stage } = synth('dev');
    const accessLogs = Template.fromStack(stage.sourceStack).findResources('AWS::S3::Bucket');
    const sse = Object.entries(accessLogs)
      .filter(([id]) => id.startsWith('EnvironmentAccessLogBucket'))
      .map(
        ([, b]) =>
          b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
      );
    expect(sse).toEqual(['AES256']);
  });
});
