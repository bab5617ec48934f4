import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Stack, Stage, Tags } from 'aws-cdk-lib';
import { readAssembly } from '../../scripts/cost/assembly';
import { loadPriceTable, PriceTable } from '../../scripts/cost/price-table';
import { scheduledHoursPerMonth } from '../../scripts/cost/pricing';
import {
  buildCostReport,
  costLimitViolation,
  CostReport,
  formatCostReport,
  parseCostLimit,
} from '../../scripts/cost/report';

/** Round figures so the expected totals below can be checked by hand. */
const PRICES: PriceTable = {
  region: 'eu-test-1',
  currency: 'USD',
  date: '2026-12-05',
  source: 'test',
  hoursPerMonth: 100,
  fixed: {
    'ec2.natGateway': { usd: 0.5, unit: 'hour', basis: 'documentation' },
    'vpc.interfaceEndpointAz': { usd: 0.1, unit: 'hour', basis: 'documentation' },
    'kms.key': { usd: 1, unit: 'key-month', basis: 'documentation' },
    'rds.auroraServerlessV2Acu': { usd: 0.2, unit: 'ACU-hour', basis: 'documentation' },
    'dms.dms.t3.small': { usd: 0.04, unit: 'hour', basis: 'estimate' },
    'dms.storage': { usd: 0.1, unit: 'GB-month', basis: 'documentation' },
    'ec2.m5.2xlarge': { usd: 0.4, unit: 'hour', basis: 'documentation' },
    'ec2.ebs.gp3': { usd: 0.08, unit: 'GB-month', basis: 'documentation' },
    'ec2.t4g.nano': { usd: 0.004, unit: 'hour', basis: 'estimate' },
    'ec2.publicIpv4': { usd: 0.005, unit: 'hour', basis: 'documentation' },
    'fargate.vcpu.x86_64': { usd: 0.04, unit: 'vCPU-hour', basis: 'documentation' },
    'fargate.memoryGb.x86_64': { usd: 0.004, unit: 'GB-hour', basis: 'documentation' },
    'cloudwatch.alarmStandardMetric': { usd: 0.1, unit: 'metric-month', basis: 'documentation' },
    'vpn.connection': { usd: 0.05, unit: 'hour', basis: 'documentation' },
    'route53resolver.endpointEni': { usd: 0.125, unit: 'hour', basis: 'documentation' },
  },
  usage: { 'AWS::S3::Bucket': [{ item: 'Storage', unit: 'GB-month', usd: 0.023, basis: 'documentation' }] },
  dmsIncludedStorageGb: { t3: 50 },
};

type Plant = (stack: Stack) => void;
const res = (stack: Stack, id: string, type: string, properties: Record<string, unknown> = {}) =>
  new CfnResource(stack, id, { type, properties });

/** Synthesizes stacks with planted resources (inside Stages when named) and prices the assembly. */
function report(stages: Record<string, Plant>, prices: PriceTable = PRICES): CostReport {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cost-test-')) });
  for (const [name, plant] of Object.entries(stages)) {
    const stage = new Stage(app, name, { env: { region: prices.region } });
    Tags.of(stage).add('Environment', name.toLowerCase());
    plant(new Stack(stage, 'Planted'));
  }
  const dir = app.synth().directory;
  return buildCostReport(readAssembly(dir), { priceTable: () => prices });
}

const env = (r: CostReport, name: string) => {
  const e = r.environments.find((x) => x.environment === name);
  if (!e) throw new Error(`no environment ${name} in ${r.environments.map((x) => x.environment).join(', ')}`);
  return e;
};
const stack = (r: CostReport, name: string) => env(r, name).stages[0]!.stacks[0]!;

describe('cost report arithmetic', () => {
  test('NAT gateway, interface endpoint per AZ and KMS key add up; gateway endpoints are free', () => {
    const r = report({
      Dev: (s) => {
        res(s, 'Nat', 'AWS::EC2::NatGateway', { SubnetId: 'subnet-1' });
        res(s, 'Sm', 'AWS::EC2::VPCEndpoint', {
          VpcEndpointType: 'Interface',
          ServiceName: 'secretsmanager',
          VpcId: 'vpc-1',
          SubnetIds: ['subnet-1', 'subnet-2'],
        });
        res(s, 'S3', 'AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: 's3', VpcId: 'vpc-1' });
        res(s, 'Key', 'AWS::KMS::Key', { KeyPolicy: {} });
        res(s, 'Key2', 'AWS::KMS::Key', { KeyPolicy: {} });
      },
    });
    // 100 h x 0.5 + 2 AZ x 100 h x 0.1 + 2 keys x 1
    expect(env(r, 'dev').fixedMonthly).toBeCloseTo(50 + 20 + 2, 6);
    expect(env(r, 'dev').notPriced).toBe(0);
    const kms = stack(r, 'dev').fixed.find((l) => l.item === 'KMS key');
    expect(kms).toMatchObject({ resources: 2, quantity: 2, monthly: 2 });
    expect(stack(r, 'dev').fixed.find((l) => l.item === 'Interface endpoint AZ')?.quantity).toBe(200);
  });

  test('a type with a fixed price but no rule, and a priced type missing from the table, are "not priced", not zero', () => {
    const r = report({
      Dev: (s) => {
        res(s, 'Nat', 'AWS::EC2::NatGateway', { SubnetId: 'subnet-1' });
        res(s, 'Cache', 'AWS::ElastiCache::CacheCluster', { CacheNodeType: 'cache.t3.micro', NumCacheNodes: 1 });
        res(s, 'Big', 'AWS::EC2::Instance', { InstanceType: 'x9.mega', ImageId: 'ami-1' });
        res(s, 'Odd', 'AWS::Made::Up', {});
      },
    });
    const dev = env(r, 'dev');
    expect(dev.fixedMonthly).toBeCloseTo(50, 6);
    expect(dev.notPriced).toBe(3);
    const items = stack(r, 'dev').notPriced.map((n) => `${n.resource}: ${n.reason}`);
    expect(items).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Cache: .*fixed charge/),
        expect.stringMatching(/^Big: no price "ec2\.x9\.mega"/),
        expect.stringMatching(/^Odd: unclassified type/),
      ]),
    );
    const text = formatCostReport(r);
    expect(text).toMatch(/EC2 instance x9\.mega \[Big\]\s+not priced: no price "ec2\.x9\.mega"/);
    expect(text).toMatch(/dev\s+\$50\.00 \(\+ 3 not priced\)/);
  });

  test('on-premises connectivity: the VPN connection and each resolver ENI are billed per hour, gateways and rules are free', () => {
    const r = report({
      Dev: (s) => {
        res(s, 'Vgw', 'AWS::EC2::VPNGateway', { Type: 'ipsec.1' });
        res(s, 'Cgw', 'AWS::EC2::CustomerGateway', { Type: 'ipsec.1', IpAddress: '198.51.100.7', BgpAsn: 65010 });
        res(s, 'Vpn', 'AWS::EC2::VPNConnection', {
          Type: 'ipsec.1',
          CustomerGatewayId: 'cgw-1',
          VpnGatewayId: 'vgw-1',
        });
        res(s, 'Out', 'AWS::Route53Resolver::ResolverEndpoint', {
          Direction: 'OUTBOUND',
          SecurityGroupIds: ['sg-1'],
          IpAddresses: [{ SubnetId: 'subnet-1' }, { SubnetId: 'subnet-2' }],
        });
        res(s, 'Rule', 'AWS::Route53Resolver::ResolverRule', { DomainName: 'corp.example', RuleType: 'FORWARD' });
        res(s, 'Assoc', 'AWS::Route53Resolver::ResolverRuleAssociation', { ResolverRuleId: 'r-1', VPCId: 'vpc-1' });
      },
    });
    // 100 h x 0.05 + 2 ENIs x 100 h x 0.125
    expect(env(r, 'dev').fixedMonthly).toBeCloseTo(5 + 25, 6);
    expect(env(r, 'dev').notPriced).toBe(0);
  });

  test('environments and stages come apart; each stage gets its own total', () => {
    const r = report({
      Dev: (s) => res(s, 'Key', 'AWS::KMS::Key', { KeyPolicy: {} }),
      Prod: (s) => res(s, 'Nat', 'AWS::EC2::NatGateway', { SubnetId: 'subnet-1' }),
    });
    expect(r.environments.map((e) => [e.environment, e.stages.map((s) => s.stage), e.fixedMonthly])).toEqual([
      ['dev', ['Dev'], 1],
      ['prod', ['Prod'], 50],
    ]);
    expect(stack(r, 'prod')).toMatchObject({ stack: 'Planted', region: 'eu-test-1' });
  });

  test('Aurora Serverless v2: minimum ACU per instance; a minimum of 0 costs nothing fixed', () => {
    const plant = (min: number) => (s: Stack) => {
      const cluster = res(s, 'Cluster', 'AWS::RDS::DBCluster', {
        Engine: 'aurora-mysql',
        ServerlessV2ScalingConfiguration: { MinCapacity: min, MaxCapacity: 2 },
      });
      for (const id of ['Writer', 'Reader']) {
        res(s, id, 'AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless', DBClusterIdentifier: cluster.ref });
      }
    };
    const r = report({ Half: plant(0.5), Zero: plant(0) });
    // 2 instances x 0.5 ACU x 100 h x 0.2
    expect(env(r, 'half').fixedMonthly).toBeCloseTo(20, 6);
    expect(env(r, 'zero').fixedMonthly).toBe(0);
    expect(env(r, 'zero').notPriced).toBe(0);
  });

  test('DMS: Multi-AZ doubles the instance and the storage beyond what the class includes', () => {
    const r = report({
      Prod: (s) =>
        res(s, 'Dms', 'AWS::DMS::ReplicationInstance', {
          ReplicationInstanceClass: 'dms.t3.small',
          AllocatedStorage: 80,
          MultiAZ: true,
        }),
    });
    // 2 x 100 h x 0.04 + 2 x (80 - 50) GB x 0.1
    expect(env(r, 'prod').fixedMonthly).toBeCloseTo(8 + 6, 6);
  });

  test('an EC2 instance with a start/stop schedule is priced for its scheduled hours; a lone stop schedule is not priced', () => {
    const schedule = (s: Stack, id: string, action: string, expr: string, instance: CfnResource) =>
      res(s, id, 'AWS::Scheduler::Schedule', {
        ScheduleExpression: expr,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: `arn:aws:scheduler:::aws-sdk:ec2:${action}`,
          RoleArn: 'arn:aws:iam::111111111111:role/r',
          Input: { 'Fn::Join': ['', ['{"InstanceIds":["', instance.ref, '"]}']] },
        },
      });
    const agent = (s: Stack) =>
      res(s, 'Agent', 'AWS::EC2::Instance', {
        InstanceType: 'm5.2xlarge',
        ImageId: 'ami-1',
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 80, VolumeType: 'gp3' } }],
      });
    const r = report({
      Scheduled: (s) => {
        const i = agent(s);
        schedule(s, 'Start', 'startInstances', 'cron(0 1 * * ? *)', i);
        schedule(s, 'Stop', 'stopInstances', 'cron(0 4 * * ? *)', i);
      },
      Half: (s) => schedule(s, 'Stop', 'stopInstances', 'cron(0 4 * * ? *)', agent(s)),
      Always: (s) => agent(s),
    });
    // 3 h a day x 100/24 days x 0.4 + 80 GB x 0.08
    expect(env(r, 'scheduled').fixedMonthly).toBeCloseTo(3 * (100 / 24) * 0.4 + 6.4, 6);
    expect(env(r, 'always').fixedMonthly).toBeCloseTo(100 * 0.4 + 6.4, 6);
    expect(env(r, 'half').fixedMonthly).toBeCloseTo(6.4, 6);
    expect(stack(r, 'half').notPriced[0]?.reason).toMatch(/start or a stop schedule but not both/);
  });

  test('a NAT instance costs its type, its root volume and its public IPv4 address, not a NAT gateway', () => {
    const subnet = (s: Stack, id: string, mapPublicIpOnLaunch: boolean) =>
      res(s, id, 'AWS::EC2::Subnet', {
        VpcId: 'vpc-1',
        CidrBlock: '10.0.0.0/24',
        MapPublicIpOnLaunch: mapPublicIpOnLaunch,
      });
    const root = [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3', Encrypted: true } }];
    const nano = (s: Stack, id: string, placement: Record<string, unknown>) =>
      res(s, id, 'AWS::EC2::Instance', {
        InstanceType: 't4g.nano',
        ImageId: 'ami-1',
        BlockDeviceMappings: root,
        ...placement,
      });
    const r = report({
      // What aws-cdk-lib's NatInstanceProviderV2 makes with associatePublicIpAddress: true.
      Interface: (s) =>
        nano(s, 'Nat', {
          NetworkInterfaces: [{ DeviceIndex: '0', AssociatePublicIpAddress: true, SubnetId: 'subnet-1' }],
          SourceDestCheck: false,
        }),
      PublicSubnet: (s) => nano(s, 'Nat', { SubnetId: subnet(s, 'Public', true).ref }),
      PrivateSubnet: (s) => nano(s, 'Box', { SubnetId: subnet(s, 'Private', false).ref }),
    });
    // 100 h x 0.004 + 8 GB x 0.08, and 100 h x 0.005 for the address
    const instance = 100 * 0.004 + 8 * 0.08;
    expect(env(r, 'interface').fixedMonthly).toBeCloseTo(instance + 100 * 0.005, 6);
    expect(env(r, 'publicsubnet').fixedMonthly).toBeCloseTo(instance + 100 * 0.005, 6);
    expect(env(r, 'privatesubnet').fixedMonthly).toBeCloseTo(instance, 6);
    expect(
      stack(r, 'interface')
        .fixed.map((l) => l.item)
        .sort(),
    ).toEqual(['EBS gp3', 'EC2 instance t4g.nano', 'Public IPv4 address'].sort());
    expect(env(r, 'interface').notPriced).toBe(0);
  });

  test('Fargate tasks are priced at their desired count, vCPU and memory', () => {
    const r = report({
      Prod: (s) => {
        const task = res(s, 'Task', 'AWS::ECS::TaskDefinition', { Cpu: '512', Memory: '2048' });
        res(s, 'Service', 'AWS::ECS::Service', { LaunchType: 'FARGATE', DesiredCount: 2, TaskDefinition: task.ref });
      },
    });
    // 2 tasks x 100 h x (0.5 x 0.04 + 2 x 0.004)
    expect(env(r, 'prod').fixedMonthly).toBeCloseTo(2 * 100 * (0.02 + 0.008), 6);
  });

  test('alarms count each metric of a metric-math alarm; usage-driven types list their unit prices', () => {
    const r = report({
      Dev: (s) => {
        res(s, 'Simple', 'AWS::CloudWatch::Alarm', { Period: 60, EvaluationPeriods: 1 });
        res(s, 'Math', 'AWS::CloudWatch::Alarm', {
          EvaluationPeriods: 1,
          Metrics: [
            { Id: 'a', MetricStat: {} },
            { Id: 'b', MetricStat: {} },
            { Id: 'e', Expression: 'a+b' },
          ],
        });
        res(s, 'Bucket', 'AWS::S3::Bucket');
      },
    });
    expect(env(r, 'dev').fixedMonthly).toBeCloseTo(0.3, 6);
    expect(r.usage).toEqual([
      { region: 'eu-test-1', type: 'AWS::S3::Bucket', prices: PRICES.usage['AWS::S3::Bucket'] },
    ]);
    expect(stack(r, 'dev').usageTypes).toContain('AWS::S3::Bucket');
    expect(formatCostReport(r)).toMatch(/AWS::S3::Bucket\s+Storage\s+\$0\.023 \/ GB-month/);
  });
});

describe('cost limits (--max)', () => {
  // One environment with two stages, as the pipeline's dev has: its migration stage and its payment stage.
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cost-test-')) });
  const stage = (id: string, plant: Plant) =>
    plant(new Stack(new Stage(app, id, { env: { region: PRICES.region } }), 'Planted'));
  const tags = [{ Key: 'Environment', Value: 'dev' }];
  stage('Dev', (s) => res(s, 'Nat', 'AWS::EC2::NatGateway', { SubnetId: 'subnet-1', Tags: tags }));
  stage('DevPayment', (s) => {
    res(s, 'Key', 'AWS::KMS::Key', { KeyPolicy: {}, Tags: tags });
    res(s, 'Cache', 'AWS::ElastiCache::CacheCluster', { CacheNodeType: 'cache.t3.micro', NumCacheNodes: 1 });
  });
  const r = buildCostReport(readAssembly(app.synth().directory), { priceTable: () => PRICES });
  const check = (text: string) => costLimitViolation(r, parseCostLimit(text)!);

  test('an environment limit counts every stage of it and refuses items not priced', () => {
    expect(env(r, 'dev').fixedMonthly).toBeCloseTo(51, 6);
    expect(check('dev=100')).toMatch(
      /^dev: fixed cost \$51\.00 a month with 1 item\(s\) not priced; the limit is \$100/,
    );
  });

  test('a stage limit counts only the stage it names, by the end of its path', () => {
    expect(check('dev/Dev=50')).toBeUndefined();
    expect(check('dev/Dev=49.99')).toMatch(/^dev\/Dev: fixed cost \$50\.00 a month with 0 item/);
    expect(check('dev/DevPayment=5')).toMatch(/1 item\(s\) not priced/);
    expect(check('dev/Nope=5')).toMatch(/no stage "Nope" in Dev, DevPayment/);
    expect(check('qa=5')).toMatch(/no environment "qa"/);
  });

  test('limits parse as <env>=<usd> or <env>/<stage>=<usd>', () => {
    expect(parseCostLimit('dev=150')).toEqual({ environment: 'dev', maxUsd: 150 });
    expect(parseCostLimit('dev/Dev=149.5')).toEqual({ environment: 'dev', stage: 'Dev', maxUsd: 149.5 });
    expect(parseCostLimit('dev/Dev/X=1')).toBeUndefined();
    expect(parseCostLimit('dev=')).toBeUndefined();
  });
});

describe('scheduledHoursPerMonth', () => {
  test('daily and weekday windows', () => {
    expect(scheduledHoursPerMonth('cron(30 1 * * ? *)', 'cron(30 4 * * ? *)', 730)).toBeCloseTo(3 * (730 / 24), 6);
    expect(scheduledHoursPerMonth('cron(0 1 ? * MON *)', 'cron(0 4 ? * MON *)', 730)).toBeCloseTo(
      (3 * 730) / 24 / 7,
      6,
    );
    expect(scheduledHoursPerMonth('cron(0 1 ? * MON-FRI *)', 'cron(0 2 ? * MON-FRI *)', 730)).toBeCloseTo(
      (5 * 730) / 24 / 7,
      6,
    );
  });

  test('windows it cannot read are undefined, not zero', () => {
    expect(scheduledHoursPerMonth('cron(0 4 * * ? *)', 'cron(0 1 * * ? *)')).toBeUndefined(); // crosses midnight
    expect(scheduledHoursPerMonth('cron(0 1 ? * MON *)', 'cron(0 4 ? * TUE *)')).toBeUndefined();
    expect(scheduledHoursPerMonth('rate(1 day)', 'cron(0 4 * * ? *)')).toBeUndefined();
  });
});

describe('price tables', () => {
  test.each(['us-west-2', 'us-east-1'])('%s is dated, sourced and marks each figure', (region) => {
    const t = loadPriceTable(region);
    expect(t.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(t.source.length).toBeGreaterThan(20);
    for (const [key, p] of Object.entries(t.fixed)) {
      expect([key, ['documentation', 'estimate'].includes(p.basis), p.usd >= 0]).toEqual([key, true, true]);
    }
  });

  test('a region without a table is an error that names the file to add', () => {
    expect(() => loadPriceTable('xx-nowhere-1')).toThrow(/No price table for xx-nowhere-1: add .*xx-nowhere-1\.json/);
  });
});
