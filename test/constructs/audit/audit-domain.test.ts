import { App, CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { OpenSearchConfig } from '../../../lib/config/environment-config';
import { AuditDomain, AuditDomainProps, parseEngineVersion } from '../../../lib/constructs/audit';
import { SERVICE_LOG_PREFIXES } from '../../../lib/constructs/shared-log-delivery-policy';
import { unacknowledgedAwsSolutionsFindings } from '../../support/nag';

const ENV = { account: '111111111111', region: 'us-west-2' };
const KEY_ARN = 'arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const WRITER_ARN = 'arn:aws:iam::111111111111:role/audit-writer';
const ADMIN_ARN = 'arn:aws:iam::111111111111:role/platform-admins';

const ONE_NODE: OpenSearchConfig = {
  engineVersion: 'OpenSearch_2.19',
  dataNodes: 1,
  dataNodeInstanceType: 't3.small.search',
  masterNodes: 0,
  volumeSizeGb: 20,
  indexRetentionDays: 30,
};
const THREE_NODES: OpenSearchConfig = {
  ...ONE_NODE,
  dataNodes: 3,
  dataNodeInstanceType: 'r6g.large.search',
  masterNodes: 3,
  masterNodeInstanceType: 'm7g.large.search',
  adminRoleArn: ADMIN_ARN,
};

interface BuildOptions {
  readonly sizing?: OpenSearchConfig;
  readonly azs?: number;
  readonly writer?: boolean;
  readonly props?: Partial<AuditDomainProps>;
}

/** The construct alone in a bare stack, with an imported VPC, security group, key and writer role. */
function build(opts: BuildOptions = {}) {
  const app = new App();
  const stack = new Stack(app, 'Audit', { env: ENV });
  const azs = ['us-west-2a', 'us-west-2b', 'us-west-2c'].slice(0, opts.azs ?? 3);
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: azs,
    isolatedSubnetIds: azs.map((_, i) => `subnet-isolated${i}`),
  });
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'DomainSg', 'sg-domain', {
    allowAllOutbound: false,
  });
  const audit = new AuditDomain(stack, 'AuditDomain', {
    vpc,
    securityGroup,
    encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
    sizing: opts.sizing ?? ONE_NODE,
    logRetention: logs.RetentionDays.ONE_MONTH,
    ...opts.props,
  });
  if (opts.writer ?? true) audit.setWriter(iam.Role.fromRoleArn(stack, 'Writer', WRITER_ARN));
  return { app, stack, audit, template: () => Template.fromStack(stack) };
}

function only<T>(template: Template, type: string): [string, T] {
  const found = Object.entries(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0] as [string, T];
}

/** The access-policy document aws-cdk-lib sends through its custom resource, references as `<Id.Attr>`. */
function accessPolicy(template: Template) {
  const [, cr] = only<{ Properties: { Create: { 'Fn::Join': [string, unknown[]] } } }>(
    template,
    'Custom::OpenSearchAccessPolicy',
  );
  const [sep, parts] = cr.Properties.Create['Fn::Join'];
  const call = parts
    .map((p) => {
      if (typeof p === 'string') return p;
      const o = p as { Ref?: string; 'Fn::GetAtt'?: string[] };
      return o.Ref ? `<${o.Ref}>` : `<${(o['Fn::GetAtt'] ?? []).join('.')}>`;
    })
    .join(sep);
  return JSON.parse((JSON.parse(call) as { parameters: { AccessPolicies: string } }).parameters.AccessPolicies) as {
    Statement: { Effect: string; Action: string; Principal: { AWS: string[] }; Resource: unknown }[];
  };
}

function setupRoleId(template: Template): string {
  const ids = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) =>
    /^AuditDomainSetupFunctionRole[0-9A-F]{8}$/.test(id),
  );
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

describe('AuditDomain', () => {
  const built = build();
  const t = built.template();
  const domainId = only(t, 'AWS::OpenSearchService::Domain')[0];

  it('runs HTTPS-only with TLS 1.2+, node-to-node encryption and at-rest encryption under the given key', () => {
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      EngineVersion: 'OpenSearch_2.19',
      DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: 'Policy-Min-TLS-1-2-PFS-2023-10' },
      NodeToNodeEncryptionOptions: { Enabled: true },
      EncryptionAtRestOptions: { Enabled: true, KmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
    });
  });

  it('makes the setup role the IAM master user, with no internal users and no password', () => {
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      AdvancedSecurityOptions: {
        Enabled: true,
        InternalUserDatabaseEnabled: false,
        MasterUserOptions: { MasterUserARN: { 'Fn::GetAtt': [setupRoleId(t), 'Arn'] } },
      },
    });
    expect(JSON.stringify(t.toJSON())).not.toMatch(/password/i);
  });

  it('allows es:ESHttp* on this domain to the setup role and the writer only', () => {
    const policy = accessPolicy(t);
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'es:ESHttp*',
        Principal: { AWS: [`<${setupRoleId(t)}.Arn>`, WRITER_ARN] },
      }),
    ]);
    expect(JSON.stringify(policy.Statement[0]!.Resource)).toContain(`<${domainId}.Arn>`);
  });

  it('adds the admin role from the sizing to the access policy and the setup', () => {
    const admin = build({ sizing: THREE_NODES }).template();
    expect(accessPolicy(admin).Statement[0]!.Principal.AWS).toEqual([
      expect.stringMatching(/^<AuditDomainSetupFunction.*\.Arn>$/),
      WRITER_ARN,
      ADMIN_ARN,
    ]);
    admin.hasResourceProperties('Custom::OpenSearchAuditSetup', { AdminRoleArn: ADMIN_ARN });
    t.hasResourceProperties('Custom::OpenSearchAuditSetup', { AdminRoleArn: Match.absent() });
  });

  it('lets the writer describe the domain and post, put and get under it, nothing more', () => {
    const policies = Object.values(t.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: Record<string, unknown>[] }; Roles: unknown[] };
    }[];
    const writerPolicies = policies.filter((p) => JSON.stringify(p.Properties.Roles) === '["audit-writer"]');
    expect(writerPolicies).toHaveLength(1);
    const policy = writerPolicies[0]!;
    const domainArn = { 'Fn::GetAtt': [domainId, 'Arn'] };
    const under = { 'Fn::Join': ['', [domainArn, '/*']] };
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Sid: 'DescribeDomain',
        Action: ['es:DescribeDomain', 'es:DescribeDomains', 'es:DescribeDomainConfig'],
        Resource: [domainArn, under],
      }),
      expect.objectContaining({
        Sid: 'IndexDocuments',
        Action: ['es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpGet'],
        Resource: under,
      }),
    ]);
  });

  it('sets up retention, replicas and the writer mapping after the domain exists', () => {
    const [, setup] = only<{ Properties: Record<string, unknown>; DependsOn: string[] }>(
      t,
      'Custom::OpenSearchAuditSetup',
    );
    expect(setup.Properties).toMatchObject({
      IndexPattern: 'audit-*',
      RetentionDays: 30,
      Replicas: 0,
      FirehoseRoleArn: WRITER_ARN,
      Endpoint: { 'Fn::GetAtt': [domainId, 'DomainEndpoint'] },
    });
    expect(setup.DependsOn).toEqual(expect.arrayContaining([domainId]));
    build({ sizing: THREE_NODES }).template().hasResourceProperties('Custom::OpenSearchAuditSetup', { Replicas: 1 });
  });

  it('refuses to synthesize without a writer, and takes one writer only', () => {
    const noWriter = build({ writer: false });
    expect(() => noWriter.app.synth()).toThrow(/AuditDomain has no writer/);
    expect(() => built.audit.setWriter(iam.Role.fromRoleArn(built.stack, 'Second', WRITER_ARN))).toThrow(
      /already has a writer/,
    );
  });

  it('publishes slow, application and audit logs to retained groups under the shared log-delivery prefix', () => {
    const domain = only<{ Properties: { LogPublishingOptions: Record<string, { Enabled: boolean }> } }>(
      t,
      'AWS::OpenSearchService::Domain',
    )[1];
    expect(Object.keys(domain.Properties.LogPublishingOptions).sort()).toEqual([
      'AUDIT_LOGS',
      'ES_APPLICATION_LOGS',
      'INDEX_SLOW_LOGS',
      'SEARCH_SLOW_LOGS',
    ]);
    expect(Object.values(domain.Properties.LogPublishingOptions).every((o) => o.Enabled)).toBe(true);
    const groups = Object.values(t.findResources('AWS::Logs::LogGroup')) as {
      Properties: { RetentionInDays: number; LogGroupName?: unknown };
      DeletionPolicy: string;
    }[];
    for (const g of groups) {
      expect(g.Properties.RetentionInDays).toBe(30);
      expect(g.DeletionPolicy).toBe('Retain');
    }
    const named = groups.filter((g) =>
      JSON.stringify(g.Properties.LogGroupName ?? '').includes(SERVICE_LOG_PREFIXES.openSearch),
    );
    expect(named).toHaveLength(4);
    t.resourceCountIs('AWS::Logs::ResourcePolicy', 0);
  });

  it('retains the domain by default and passes another removal policy through', () => {
    t.hasResource('AWS::OpenSearchService::Domain', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    build({ props: { removalPolicy: RemovalPolicy.DESTROY } })
      .template()
      .hasResource('AWS::OpenSearchService::Domain', { DeletionPolicy: 'Delete' });
  });

  it('is created after the service-linked role and the log-delivery policy', () => {
    const app = new App();
    const stack = new Stack(app, 'Audit', { env: ENV });
    const ready = (id: string) => new CfnResource(stack, id, { type: 'AWS::CloudFormation::WaitConditionHandle' });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-1',
      availabilityZones: ['us-west-2a'],
      isolatedSubnetIds: ['subnet-1'],
    });
    new AuditDomain(stack, 'AuditDomain', {
      vpc,
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-1'),
      encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
      sizing: ONE_NODE,
      logRetention: logs.RetentionDays.ONE_MONTH,
      serviceLinkedRoleReady: ready('Slr'),
      logDeliveryPolicyReady: ready('LogPolicy'),
    }).setWriter(iam.Role.fromRoleArn(stack, 'Writer', WRITER_ARN));
    const [, domain] = only<{ DependsOn: string[] }>(Template.fromStack(stack), 'AWS::OpenSearchService::Domain');
    expect(domain.DependsOn).toEqual(expect.arrayContaining(['Slr', 'LogPolicy']));
  });

  describe('placement', () => {
    const subnetsOf = (tpl: Template) =>
      only<{ Properties: { VPCOptions: { SubnetIds: string[] }; ClusterConfig: Record<string, unknown> } }>(
        tpl,
        'AWS::OpenSearchService::Domain',
      )[1].Properties;

    it('puts a one-node domain in one isolated subnet without zone awareness', () => {
      const p = subnetsOf(t);
      expect(p.VPCOptions.SubnetIds).toEqual(['subnet-isolated0']);
      expect(p.ClusterConfig).toMatchObject({
        InstanceCount: 1,
        ZoneAwarenessEnabled: false,
        DedicatedMasterEnabled: false,
      });
      expect(built.audit.subnets.map((s) => s.subnetId)).toEqual(['subnet-isolated0']);
    });

    it('spreads nodes over up to three AZs, with the configured dedicated masters', () => {
      const p = subnetsOf(build({ sizing: THREE_NODES }).template());
      expect(p.VPCOptions.SubnetIds).toHaveLength(3);
      expect(p.ClusterConfig).toMatchObject({
        InstanceCount: 3,
        ZoneAwarenessEnabled: true,
        ZoneAwarenessConfig: { AvailabilityZoneCount: 3 },
        DedicatedMasterEnabled: true,
        DedicatedMasterCount: 3,
        DedicatedMasterType: 'm7g.large.search',
      });
      const two = subnetsOf(build({ sizing: { ...ONE_NODE, dataNodes: 2 }, azs: 2 }).template());
      expect(two.ClusterConfig).toMatchObject({ ZoneAwarenessConfig: { AvailabilityZoneCount: 2 } });
    });

    it('refuses what it cannot place', () => {
      expect(() => build({ sizing: { ...ONE_NODE, dataNodes: 2 }, azs: 3 })).toThrow(
        /2 data nodes cannot be spread evenly over 3 AZs/,
      );
      expect(() => build({ sizing: { ...ONE_NODE, dataNodes: 2 }, azs: 1 })).toThrow(
        /needs PRIVATE_ISOLATED subnets in two or more AZs; the VPC has 1/,
      );
      expect(() => build({ sizing: { ...ONE_NODE, engineVersion: 'OpenSearch_2.5' } })).toThrow(/older than/);
    });
  });

  it('opens the domain security group on 443 from the setup function and any peer given', () => {
    const b = build();
    const peer = new ec2.SecurityGroup(b.stack, 'Peer', {
      vpc: ec2.Vpc.fromVpcAttributes(b.stack, 'PeerVpc', { vpcId: 'vpc-1', availabilityZones: ['us-west-2a'] }),
      allowAllOutbound: false,
    });
    b.audit.allowHttpsFrom(peer, 'Test peer');
    const tpl = b.template();
    const ingress = Object.values(tpl.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (r) => (r as { Properties: Record<string, unknown> }).Properties,
    );
    expect(ingress).toHaveLength(2);
    for (const p of ingress)
      expect(p).toMatchObject({ GroupId: 'sg-domain', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
    // Both the peer and the setup function's group may reach the domain on 443, and nothing else.
    const egress = Object.values(tpl.findResources('AWS::EC2::SecurityGroupEgress')).map(
      (r) => (r as { Properties: { GroupId: { 'Fn::GetAtt': string[] } } }).Properties,
    );
    expect(egress.map((p) => p.GroupId['Fn::GetAtt'][0]!.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AuditDomainSetupSecurityGroup',
      'Peer',
    ]);
    for (const p of egress)
      expect(p).toMatchObject({ DestinationSecurityGroupId: 'sg-domain', FromPort: 443, ToPort: 443 });
  });

  it.each([
    ['one node', ONE_NODE],
    ['three nodes, dedicated masters and an admin role', THREE_NODES],
  ])('leaves no unacknowledged AwsSolutions finding (%s)', (_case, sizing) => {
    expect(unacknowledgedAwsSolutionsFindings(build({ sizing }).stack)).toEqual([]);
  });
});

describe('parseEngineVersion', () => {
  it('accepts a version aws-cdk-lib knows', () => {
    expect(parseEngineVersion('OpenSearch_2.19').version).toBe('OpenSearch_2.19');
  });
  it('names what is wrong with anything else', () => {
    expect(() => parseEngineVersion('2.19')).toThrow(/expected OpenSearch_X.Y/);
    expect(() => parseEngineVersion('OpenSearch_2.5')).toThrow(/older than OpenSearch_2.7/);
    expect(() => parseEngineVersion('OpenSearch_2.20')).toThrow(
      /unknown to the installed aws-cdk-lib; known: .*OpenSearch_2.19/,
    );
  });
});
