import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EnvironmentConfig } from '../../lib/config/environment-config';
import { loadEnvironmentConfig, validateEnvironmentConfig } from '../../lib/config/load';
import { OPENSEARCH_SERVICE_LINKED_ROLE, ServiceLinkedRole } from '../../lib/constructs/service-linked-role';
import { SharedLogDeliveryPolicy } from '../../lib/constructs/shared-log-delivery-policy';
import { LoggingStack } from '../../lib/stacks/logging-stack';

const ENV = { account: '111111111111', region: 'us-west-2' };
const ADMIN = 'arn:aws:iam::111111111111:role/platform-admins';

interface Violation {
  ruleName: string;
  violatingConstructs: { constructPath: string }[];
}

interface Built {
  config: EnvironmentConfig;
  logging: Template;
  network: Template;
  consumer: Template;
  violations: Violation[];
}

/**
 * An app like the stage builds it: a NetworkStack stand-in, the LoggingStack, and a consumer stack
 * that uses `auditEventTarget()` and `subscribeLogGroup()`, with cdk-nag AwsSolutions as a
 * validation plugin. Returns the synthesized templates and every finding the plugin reported.
 */
interface BuildOptions {
  readonly context?: Record<string, unknown>;
  readonly config?: (c: EnvironmentConfig) => EnvironmentConfig;
  /** Adds a construct to the LoggingStack, e.g. a planted violation. */
  readonly plant?: (s: Stack) => void;
}

function build(envName: 'dev' | 'prod', opts: BuildOptions = {}): Built {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'logging-stack-'));
  try {
    return synthesize(envName, outdir, opts);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function synthesize(envName: 'dev' | 'prod', outdir: string, opts: BuildOptions): Built {
  const app = new App({ outdir, context: opts.context ?? {} });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const networkStack = new Stack(app, 'Network', { env: ENV });
  const vpc = new ec2.Vpc(networkStack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  vpc.addFlowLog('FlowLog');
  const openSearchSecurityGroup = new ec2.SecurityGroup(networkStack, 'OpenSearchSecurityGroup', {
    vpc,
    allowAllOutbound: false,
  });

  const serviceLinkedRole = new ServiceLinkedRole(networkStack, 'OpenSearchSlr', OPENSEARCH_SERVICE_LINKED_ROLE);

  const base = loadEnvironmentConfig(envName);
  const config = opts.config ? opts.config(base) : base;
  const logging = new LoggingStack(app, 'Logging', {
    env: ENV,
    config,
    vpc,
    openSearchSecurityGroup,
    serviceLinkedRoleReady: serviceLinkedRole.ready,
    logDeliveryPolicyReady: new SharedLogDeliveryPolicy(networkStack, 'LogDeliveryPolicy').ready,
    removalPolicy: envName === 'dev' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  opts.plant?.(logging);

  const consumer = new Stack(app, 'Consumer', { env: ENV });
  new events.Rule(consumer, 'GlueStateChange', {
    eventPattern: { source: ['aws.glue'], detailType: ['Glue Job State Change'] },
    targets: [logging.auditEventTarget()],
  });
  new events.Rule(consumer, 'SfnStatusChange', {
    eventPattern: { source: ['aws.states'] },
    targets: [logging.auditEventTarget()],
  });
  const logGroup = new logs.LogGroup(consumer, 'HandlerLogs', { retention: logs.RetentionDays.TWO_WEEKS });
  logging.subscribeLogGroup(logGroup, 'AuditSubscription');

  try {
    app.synth();
  } catch (e) {
    if (!fs.existsSync(path.join(outdir, 'validation-report.json'))) throw e;
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const report = fs.existsSync(reportFile)
    ? (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { pluginReports: { violations: Violation[] }[] })
    : { pluginReports: [] };
  const read = (name: string) =>
    Template.fromJSON(JSON.parse(fs.readFileSync(path.join(outdir, `${name}.template.json`), 'utf8')));
  return {
    config,
    logging: read('Logging'),
    network: read('Network'),
    consumer: read('Consumer'),
    violations: report.pluginReports.flatMap((p) => p.violations),
  };
}

const findings = (b: Built) =>
  b.violations.map((v) => `${v.ruleName} @ ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`);

function only<T>(template: Template, type: string): T {
  const found = Object.values(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0] as T;
}

/** Renders `Fn::Join` with `{Ref}`/`{Fn::GetAtt}` parts as `<LogicalId>` / `<LogicalId.Attr>` placeholders. */
function renderJoin(value: unknown): string {
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1]
    .map((p) => {
      if (typeof p === 'string') return p;
      const o = p as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      if (o.Ref) return `<${o.Ref}>`;
      if (o['Fn::GetAtt']) return `<${o['Fn::GetAtt'].join('.')}>`;
      return `<${JSON.stringify(p)}>`;
    })
    .join(join[0]);
}

/** The access policy CDK applies through its custom resource, parsed. */
function accessPolicy(t: Template): {
  Statement: { Effect: string; Action: string | string[]; Principal: { AWS: string | string[] } }[];
} {
  const cr = only<{ Properties: { Create: unknown } }>(t, 'Custom::OpenSearchAccessPolicy');
  const call = JSON.parse(renderJoin(cr.Properties.Create)) as { parameters: { AccessPolicies: string } };
  return JSON.parse(call.parameters.AccessPolicies);
}

function logicalIdOf(t: Template, type: string, pathPart: string): string {
  const ids = Object.keys(t.findResources(type)).filter((id) => new RegExp(`^${pathPart}[0-9A-F]{8}$`).test(id));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** The principal of every Allow statement anywhere in a template (Deny statements may name `*`). */
function allowedPrincipals(json: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(json)) json.forEach((v) => allowedPrincipals(v, found));
  else if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    if (o.Effect === 'Allow' && 'Principal' in o) found.push(o.Principal);
    Object.values(o).forEach((v) => allowedPrincipals(v, found));
  }
  return found;
}

describe.each(['dev', 'prod'] as const)('LoggingStack (%s)', (envName) => {
  let b: Built;
  beforeAll(() => {
    b = build(envName);
  });

  it('has no unacknowledged cdk-nag AwsSolutions findings in any stack of the app', () => {
    expect(findings(b)).toEqual([]);
  });

  it('encrypts the domain with this stack’s key (details: test/constructs/audit)', () => {
    const keyId = logicalIdOf(b.logging, 'AWS::KMS::Key', 'AuditKey');
    b.logging.hasResourceProperties('AWS::OpenSearchService::Domain', {
      EncryptionAtRestOptions: { Enabled: true, KmsKeyId: { Ref: keyId } },
    });
  });

  it('allows es:ESHttp* to the named roles only', () => {
    const setupRole = logicalIdOf(b.logging, 'AWS::IAM::Role', 'AuditDomainSetupFunctionRole');
    const firehoseRole = logicalIdOf(b.logging, 'AWS::IAM::Role', 'DeliveryRole');
    const policy = accessPolicy(b.logging);
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]).toMatchObject({ Effect: 'Allow', Action: 'es:ESHttp*' });
    expect(policy.Statement[0]!.Principal.AWS).toEqual([`<${setupRole}.Arn>`, `<${firehoseRole}.Arn>`]);
  });

  it('names no anonymous principal and grants no es:* anywhere', () => {
    for (const t of [b.logging, b.consumer]) {
      const json = t.toJSON();
      const principals = allowedPrincipals(json);
      expect(principals.length).toBeGreaterThan(0);
      for (const p of principals) expect(JSON.stringify(p)).not.toMatch(/^"\*"$|"AWS":"\*"|"AWS":\["\*"\]/);
      expect(JSON.stringify(json)).not.toMatch(/"es:\*"|\\"es:\*\\"/);
    }
    expect(JSON.stringify(accessPolicy(b.logging))).not.toContain('"*"');
  });

  it('keeps every log group for config.logRetentionDays, with no per-stage resource policy', () => {
    const groups = Object.values(b.logging.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(0);
    for (const lg of groups) {
      expect((lg as { Properties: { RetentionInDays?: number } }).Properties.RetentionInDays).toBe(
        b.config.logRetentionDays,
      );
    }
    b.logging.resourceCountIs('AWS::Logs::ResourcePolicy', 0);
  });

  it('puts both streams in the domain’s subnets and backs them up with this stack’s key, expiring with the logs', () => {
    const domain = only<{ Properties: { VPCOptions: { SubnetIds: unknown[] } } }>(
      b.logging,
      'AWS::OpenSearchService::Domain',
    );
    const streams = Object.values(b.logging.findResources('AWS::KinesisFirehose::DeliveryStream'));
    expect(streams).toHaveLength(2);
    for (const s of streams) {
      const dest = (s as { Properties: { AmazonopensearchserviceDestinationConfiguration: Record<string, any> } })
        .Properties.AmazonopensearchserviceDestinationConfiguration;
      // The AZs of the domain: one in dev (one node), two in prod.
      expect(dest.VpcConfiguration.SubnetIds).toEqual(domain.Properties.VPCOptions.SubnetIds);
      expect(dest.VpcConfiguration.SubnetIds).toHaveLength(envName === 'dev' ? 1 : 2);
      expect(dest.S3Configuration.BucketARN).toEqual({
        'Fn::GetAtt': [logicalIdOf(b.logging, 'AWS::S3::Bucket', 'DeliveryBackup'), 'Arn'],
      });
    }
    b.logging.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [logicalIdOf(b.logging, 'AWS::KMS::Key', 'AuditKey'), 'Arn'] },
            },
          }),
        ],
      },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ ExpirationInDays: b.config.logRetentionDays, Status: 'Enabled' })],
      },
    });
  });

  it('configures retention and the writer role through the setup custom resource before any delivery', () => {
    const firehoseRole = logicalIdOf(b.logging, 'AWS::IAM::Role', 'DeliveryRole');
    b.logging.hasResourceProperties('Custom::OpenSearchAuditSetup', {
      IndexPattern: 'audit-*',
      RetentionDays: b.config.openSearch.indexRetentionDays,
      Replicas: b.config.openSearch.dataNodes > 1 ? 1 : 0,
      FirehoseRoleArn: { 'Fn::GetAtt': [firehoseRole, 'Arn'] },
    });
    for (const s of Object.values(b.logging.findResources('AWS::KinesisFirehose::DeliveryStream'))) {
      expect((s as { DependsOn: string[] }).DependsOn).toContainEqual(
        expect.stringMatching(/^AuditDomainSetup[0-9A-F]{8}$/),
      );
    }
    b.logging.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SecurityGroupIds: [
          {
            'Fn::GetAtt': [
              logicalIdOf(b.logging, 'AWS::EC2::SecurityGroup', 'AuditDomainSetupSecurityGroup'),
              'GroupId',
            ],
          },
        ],
      },
    });
  });

  it('opens the domain security group on 443 from its own security groups, with the rules in this stack', () => {
    const ingress = Object.values(b.logging.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (r) => (r as { Properties: Record<string, unknown> }).Properties,
    );
    expect(ingress).toHaveLength(2);
    const sources = ingress
      .map((p) =>
        ((p.SourceSecurityGroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] ?? '').replace(/[0-9A-F]{8}$/, ''),
      )
      .sort();
    expect(sources).toEqual(['AuditDomainSetupSecurityGroup', 'DeliverySecurityGroup']);
    for (const p of ingress) {
      expect(p).toMatchObject({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        GroupId: { 'Fn::ImportValue': expect.stringContaining('OpenSearchSecurityGroup') },
      });
    }
    expect(b.network.findResources('AWS::EC2::SecurityGroupIngress')).toEqual({});
  });

  it('gives EventBridge rules a retry policy and a dead-letter queue in their own stack', () => {
    const queue = logicalIdOf(b.consumer, 'AWS::SQS::Queue', 'AuditEventTargetDlq');
    const rules = Object.values(b.consumer.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(2);
    for (const r of rules) {
      const target = (r as { Properties: { Targets: Record<string, unknown>[] } }).Properties.Targets[0]!;
      expect(target).toMatchObject({
        Arn: { 'Fn::ImportValue': expect.stringContaining('DeliveryEventsStream') },
        RoleArn: { 'Fn::ImportValue': expect.stringContaining('EventBridgeToFirehoseRole') },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      });
    }
    const statements = only<{ Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }>(
      b.consumer,
      'AWS::SQS::QueuePolicy',
    ).Properties.PolicyDocument.Statement.filter((st) => st.Effect === 'Allow');
    expect(statements).toHaveLength(2);
    for (const st of statements) {
      expect(st).toMatchObject({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: {
          ArnEquals: {
            'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/^(GlueStateChange|SfnStatusChange)/), 'Arn'] },
          },
        },
      });
    }
  });

  it('creates log subscriptions in the log group’s stack, delivering through this stack’s role', () => {
    b.consumer.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      FilterPattern: '',
      DestinationArn: { 'Fn::ImportValue': Match.stringLikeRegexp('DeliveryLogsStream') },
      RoleArn: { 'Fn::ImportValue': Match.stringLikeRegexp('CloudWatchLogsToFirehoseRole') },
    });
  });

  it('puts no secret in the template', () => {
    const json = JSON.stringify(b.logging.toJSON());
    expect(json).not.toMatch(/password|secretaccesskey/i);
    expect(b.logging.findResources('AWS::SecretsManager::Secret')).toEqual({});
  });
});

describe('sizing per environment', () => {
  it('dev: one t3.small.search node, 20 GB gp3, no zone awareness, no dedicated masters', () => {
    const b = build('dev');
    b.logging.hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: {
        InstanceCount: 1,
        InstanceType: 't3.small.search',
        ZoneAwarenessEnabled: false,
        DedicatedMasterEnabled: false,
      },
      EBSOptions: { EBSEnabled: true, VolumeSize: 20, VolumeType: 'gp3' },
      VPCOptions: { SubnetIds: [{ 'Fn::ImportValue': Match.stringLikeRegexp('isolated') }] },
    });
    b.logging.hasResource('AWS::OpenSearchService::Domain', { DeletionPolicy: 'Delete' });
  });

  it('prod: two r6g.large.search nodes across two AZs, 100 GB gp3, retained', () => {
    const b = build('prod');
    b.logging.hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: {
        InstanceCount: 2,
        InstanceType: 'r6g.large.search',
        ZoneAwarenessEnabled: true,
        ZoneAwarenessConfig: { AvailabilityZoneCount: 2 },
        MultiAZWithStandbyEnabled: false,
      },
      EBSOptions: { EBSEnabled: true, VolumeSize: 100, VolumeType: 'gp3' },
    });
    const domain = only<{ Properties: { VPCOptions: { SubnetIds: unknown[] } } }>(
      b.logging,
      'AWS::OpenSearchService::Domain',
    );
    expect(domain.Properties.VPCOptions.SubnetIds).toHaveLength(2);
    b.logging.hasResource('AWS::OpenSearchService::Domain', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    b.logging.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });
});

describe('options', () => {
  it('adds the admin role from config to the access policy and the setup', () => {
    const b = build('dev', { config: (c) => ({ ...c, openSearch: { ...c.openSearch, adminRoleArn: ADMIN } }) });
    expect(accessPolicy(b.logging).Statement[0]!.Principal.AWS).toContain(ADMIN);
    b.logging.hasResourceProperties('Custom::OpenSearchAuditSetup', { AdminRoleArn: ADMIN });
    expect(findings(b)).toEqual([]);
  });

  it('rejects an admin role that is not a role ARN', () => {
    const c = loadEnvironmentConfig('dev');
    expect(() => validateEnvironmentConfig({ ...c, openSearch: { ...c.openSearch, adminRoleArn: '*' } })).toThrow(
      /openSearch\.adminRoleArn: expected an IAM role ARN/,
    );
  });

  it('takes the engine version and dedicated masters from config', () => {
    const b = build('prod', {
      config: (c) => ({
        ...c,
        openSearch: {
          ...c.openSearch,
          engineVersion: 'OpenSearch_3.1',
          masterNodes: 3,
          masterNodeInstanceType: 'm7g.large.search',
        },
      }),
    });
    b.logging.hasResourceProperties('AWS::OpenSearchService::Domain', {
      EngineVersion: 'OpenSearch_3.1',
      ClusterConfig: { DedicatedMasterEnabled: true, DedicatedMasterCount: 3, DedicatedMasterType: 'm7g.large.search' },
    });
    expect(findings(b)).toEqual([]);
  });

  it('reports a finding the stack does not acknowledge (the checks reach this stack)', () => {
    const b = build('dev', { plant: (s) => new s3.Bucket(s, 'PlantedBucket') });
    expect(findings(b)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AwsSolutions-S10 @ Logging\/PlantedBucket/)]),
    );
  });
});
