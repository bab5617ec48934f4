import { CfnResource, CfnTemplate } from './assembly';
import { PriceBasis, PriceTable } from './price-table';

/** A fixed monthly charge of one resource. */
export interface LineItem {
  readonly resource: string;
  readonly type: string;
  /** What is charged, e.g. `NAT gateway`, `EC2 instance m5.2xlarge`. Items with one label and unit price add up. */
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  readonly monthly: number;
  readonly basis: PriceBasis;
}

/** A fixed charge the table cannot price; never counted as zero. */
export interface NotPriced {
  readonly resource: string;
  readonly type: string;
  readonly item: string;
  readonly reason: string;
}

export interface ResourceCost {
  readonly fixed: LineItem[];
  readonly notPriced: NotPriced[];
  /** True when the resource (also) costs by use; its unit prices come from the table's `usage` section. */
  readonly usage: boolean;
}

/** Types that cost nothing by themselves (what they configure is priced on the resource it belongs to). */
export const FREE_TYPES: ReadonlySet<string> = new Set([
  'AWS::CDK::Metadata',
  // The virtual private gateway and the customer gateway are free; the VPN connection is billed per hour.
  'AWS::EC2::VPNGateway',
  'AWS::EC2::CustomerGateway',
  'AWS::EC2::VPNConnectionRoute',
  'AWS::EC2::VPNGatewayRoutePropagation',
  // Resolver rules and their associations are free; the endpoint is billed per network interface.
  'AWS::Route53Resolver::ResolverRule',
  'AWS::Route53Resolver::ResolverRuleAssociation',
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::ApplicationAutoScaling::ScalingPolicy',
  'AWS::CertificateManager::Certificate',
  'AWS::DMS::Endpoint',
  'AWS::DMS::ReplicationSubnetGroup',
  'AWS::EC2::EgressOnlyInternetGateway',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::LaunchTemplate',
  'AWS::EC2::NetworkAcl',
  'AWS::EC2::NetworkAclEntry',
  'AWS::EC2::Route',
  'AWS::EC2::RouteTable',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::Subnet',
  'AWS::EC2::SubnetNetworkAclAssociation',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::VPC',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::ECS::Cluster',
  'AWS::ECS::TaskDefinition',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
  'AWS::Glue::Database',
  'AWS::Glue::SecurityConfiguration',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::Policy',
  'AWS::IAM::Role',
  'AWS::KMS::Alias',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::Permission',
  'AWS::Lambda::Version',
  'AWS::Lambda::Alias',
  'AWS::Logs::LogStream',
  'AWS::Logs::ResourcePolicy',
  'AWS::Logs::SubscriptionFilter',
  'AWS::RDS::DBClusterParameterGroup',
  'AWS::RDS::DBParameterGroup',
  'AWS::RDS::DBSubnetGroup',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::Subscription',
  'AWS::SNS::TopicPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::Scheduler::ScheduleGroup',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::SecretsManager::RotationSchedule',
  'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::SSM::Parameter',
  'AWS::CodeStarNotifications::NotificationRule',
  'AWS::CloudFormation::WaitConditionHandle',
]);

/** Types with only usage-driven charges (beyond those listed in the table's `usage` section). */
const USAGE_ONLY_TYPES: ReadonlySet<string> = new Set([
  'AWS::Lambda::Function',
  'AWS::Lambda::LayerVersion',
  'AWS::Serverless::Application',
  'AWS::StepFunctions::StateMachine',
  'AWS::SNS::Topic',
  'AWS::SQS::Queue',
  'AWS::Logs::LogGroup',
  'AWS::EC2::FlowLog',
  'AWS::Events::Rule',
  'AWS::Events::EventBus',
  'AWS::Scheduler::Schedule',
  'AWS::Glue::Job',
  'AWS::DataSync::LocationS3',
  'AWS::DataSync::LocationNFS',
  'AWS::DataSync::LocationSMB',
  'AWS::DataSync::Task',
  'AWS::DataSync::Agent',
  'AWS::Route53::RecordSet',
  'AWS::ECR::Repository',
  'AWS::CodePipeline::Pipeline',
  'AWS::CodeBuild::Project',
  'AWS::CodeBuild::ReportGroup',
  'AWS::CodeStarConnections::Connection',
  'AWS::CodeConnections::Connection',
  'AWS::DMS::ReplicationTask',
  'AWS::DMS::ReplicationConfig',
]);

/**
 * Types known to carry a fixed charge that this report has no rule for: always "not priced", so a
 * new resource of such a type shows up instead of disappearing into a smaller total.
 */
const UNRULED_FIXED_TYPES: ReadonlySet<string> = new Set([
  'AWS::EC2::TransitGateway',
  'AWS::EC2::TransitGatewayAttachment',
  'AWS::EC2::VPNConnection',
  'AWS::EC2::ClientVpnEndpoint',
  'AWS::NetworkFirewall::Firewall',
  'AWS::ElastiCache::CacheCluster',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::Redshift::Cluster',
  'AWS::MSK::Cluster',
  'AWS::DocDB::DBInstance',
  'AWS::Neptune::DBInstance',
  'AWS::Kinesis::Stream',
  'AWS::WAFv2::WebACL',
  'AWS::DirectoryService::MicrosoftAD',
  'AWS::ACMPCA::CertificateAuthority',
  'AWS::Shield::Protection',
  'AWS::GlobalAccelerator::Accelerator',
  'AWS::ElasticLoadBalancing::LoadBalancer',
  'AWS::EKS::Cluster',
  'AWS::RDS::DBProxy',
]);

const num = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v)) ? Number(v) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
/** Logical id a `Ref` or `Fn::GetAtt` points at. */
const refOf = (v: unknown): string | undefined => {
  const o = obj(v);
  if (typeof o.Ref === 'string') return o.Ref;
  const getAtt = o['Fn::GetAtt'];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
};

/** Prices one resource of a template. */
export class ResourcePricer {
  private readonly hours: number;

  constructor(
    private readonly prices: PriceTable,
    private readonly template: CfnTemplate,
  ) {
    this.hours = prices.hoursPerMonth;
  }

  price(id: string, resource: CfnResource): ResourceCost {
    const t = resource.Type;
    const p = resource.Properties ?? {};
    const out: ResourceCost = { fixed: [], notPriced: [], usage: t in this.prices.usage || USAGE_ONLY_TYPES.has(t) };
    const add = (item: string, key: string, quantity: number) => this.add(out, id, t, item, key, quantity);
    const missing = (item: string, reason: string) => out.notPriced.push({ resource: id, type: t, item, reason });

    switch (t) {
      case 'AWS::EC2::NatGateway':
        add('NAT gateway', 'ec2.natGateway', this.hours);
        break;
      case 'AWS::EC2::VPNConnection':
        add('Site-to-Site VPN connection', 'vpn.connection', this.hours);
        break;
      case 'AWS::Route53Resolver::ResolverEndpoint': {
        if (!Array.isArray(p.IpAddresses)) {
          missing('Resolver endpoint ENI', 'IpAddresses is not a list in the template, so the ENI count is unknown');
          break;
        }
        add('Resolver endpoint ENI', 'route53resolver.endpointEni', p.IpAddresses.length * this.hours);
        break;
      }
      case 'AWS::EC2::EIP':
        add('Public IPv4 address', 'ec2.publicIpv4', this.hours);
        break;
      case 'AWS::EC2::VPCEndpoint': {
        const type = str(p.VpcEndpointType) ?? 'Gateway';
        if (type === 'Gateway') break; // gateway endpoints (S3, DynamoDB) are free
        if (type !== 'Interface') {
          missing(`${type} endpoint`, 'no rule for this endpoint type');
          break;
        }
        if (!Array.isArray(p.SubnetIds)) {
          missing('Interface endpoint AZ', 'SubnetIds is not a list in the template, so the AZ count is unknown');
          break;
        }
        add('Interface endpoint AZ', 'vpc.interfaceEndpointAz', p.SubnetIds.length * this.hours);
        break;
      }
      case 'AWS::RDS::DBInstance':
        this.rdsInstance(id, p, add, missing);
        break;
      case 'AWS::RDS::DBCluster':
        break; // compute is priced on its instances; storage and I/O are usage
      case 'AWS::DMS::ReplicationInstance': {
        const cls = str(p.ReplicationInstanceClass);
        const copies = p.MultiAZ === true || p.MultiAz === true ? 2 : 1;
        const suffix = copies === 2 ? ' (Multi-AZ)' : '';
        if (!cls) {
          missing('DMS replication instance', 'ReplicationInstanceClass is not a literal');
          break;
        }
        add(`DMS instance ${cls}${suffix}`, `dms.${cls}`, copies * this.hours);
        const family = cls.split('.')[1]?.replace(/\d.*$/, '') ?? '';
        const gen = cls.split('.')[1] ?? '';
        const included = num(this.prices.dmsIncludedStorageGb[gen] ?? this.prices.dmsIncludedStorageGb[family]);
        const allocated = num(p.AllocatedStorage) ?? 50;
        if (included === undefined) {
          missing(`DMS storage ${allocated} GB`, `no included-storage figure for class family ${gen}`);
        } else if (allocated > included) {
          add(`DMS storage beyond ${included} GB included${suffix}`, 'dms.storage', copies * (allocated - included));
        }
        break;
      }
      case 'AWS::OpenSearchService::Domain':
        this.openSearch(p, add, missing);
        break;
      case 'AWS::EC2::Instance':
        this.ec2Instance(id, p, add, missing);
        break;
      case 'AWS::EC2::Volume': {
        const size = num(p.Size);
        const type = str(p.VolumeType) ?? 'gp2';
        if (size === undefined) missing(`EBS ${type}`, 'Size is not a literal');
        else add(`EBS ${type}`, `ec2.ebs.${type}`, size);
        break;
      }
      case 'AWS::KinesisFirehose::DeliveryStream': {
        for (const [key, dest] of Object.entries(p)) {
          if (!key.endsWith('DestinationConfiguration')) continue;
          const vpc = obj(obj(dest).VpcConfiguration);
          if (!('SubnetIds' in vpc)) continue;
          if (!Array.isArray(vpc.SubnetIds)) missing('Firehose VPC delivery AZ', 'SubnetIds is not a list');
          else add('Firehose VPC delivery AZ', 'firehose.vpcDeliveryAz', vpc.SubnetIds.length * this.hours);
        }
        break;
      }
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
        const type = str(p.Type) ?? 'application';
        const label = type === 'network' ? 'Network Load Balancer' : 'Application Load Balancer';
        if (type === 'gateway') missing('Gateway Load Balancer', 'no rule for gateway load balancers');
        else add(label, `elb.${type}`, this.hours);
        break;
      }
      case 'AWS::ECS::Service':
        this.ecsService(id, p, out, missing);
        break;
      case 'AWS::KMS::Key':
        add('KMS key', 'kms.key', 1);
        break;
      case 'AWS::SecretsManager::Secret':
        add('Secrets Manager secret', 'secretsmanager.secret', 1);
        break;
      case 'AWS::CloudWatch::Alarm': {
        const highRes = (num(p.Period) ?? 60) < 60;
        const metrics = Array.isArray(p.Metrics)
          ? Math.max(1, p.Metrics.filter((m) => 'MetricStat' in obj(m)).length)
          : 1;
        if (highRes) add('Alarm metric (high resolution)', 'cloudwatch.alarmHighResolutionMetric', metrics);
        else add('Alarm metric', 'cloudwatch.alarmStandardMetric', metrics);
        break;
      }
      case 'AWS::CloudWatch::CompositeAlarm':
        add('Composite alarm', 'cloudwatch.compositeAlarm', 1);
        break;
      case 'AWS::CloudWatch::Dashboard':
        add('Dashboard', 'cloudwatch.dashboard', 1);
        break;
      case 'AWS::Route53::HealthCheck': {
        const c = obj(p.HealthCheckConfig);
        const type = str(c.Type) ?? '';
        add('Route 53 health check', 'route53.healthCheckAws', 1);
        const features =
          (type.startsWith('HTTPS') ? 1 : 0) +
          (type.endsWith('_STR_MATCH') ? 1 : 0) +
          (num(c.RequestInterval) === 10 ? 1 : 0) +
          (c.MeasureLatency === true ? 1 : 0);
        if (features > 0) add('Route 53 health check option', 'route53.healthCheckOptionalFeature', features);
        break;
      }
      case 'AWS::Route53::HostedZone':
        add('Route 53 hosted zone', 'route53.hostedZone', 1);
        break;
      case 'AWS::S3::Bucket': {
        const rules = obj(p.ReplicationConfiguration).Rules;
        const metered = Array.isArray(rules)
          ? rules.filter((r) => str(obj(obj(r).Metrics).Status) === 'Enabled').length
          : 0;
        if (metered > 0) {
          const perRule = this.prices.fixed['s3.replicationMetricsPerRule']?.usd;
          if (perRule === undefined) missing('S3 replication metrics', 'no s3.replicationMetricsPerRule in the table');
          else add('S3 replication metric (RTC rules)', 'cloudwatch.customMetric', metered * perRule);
        }
        break;
      }
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        if ((str(p.BillingMode) ?? 'PROVISIONED') !== 'PAY_PER_REQUEST') {
          missing('DynamoDB provisioned capacity', 'provisioned read/write capacity has no rule in this report');
        }
        break;
      default:
        if (FREE_TYPES.has(t) || out.usage) break;
        if (t.startsWith('Custom::')) return { ...out, usage: true }; // Lambda-backed: invocations only
        missing(
          t,
          UNRULED_FIXED_TYPES.has(t)
            ? 'this type has a fixed charge that the report has no rule for'
            : 'unclassified type: add a rule, or list it as free or usage-only in scripts/cost/pricing.ts',
        );
    }
    return out;
  }

  private add(out: ResourceCost, id: string, type: string, item: string, key: string, quantity: number): void {
    const price = this.prices.fixed[key];
    if (!price) {
      out.notPriced.push({ resource: id, type, item, reason: `no price "${key}" in the ${this.prices.region} table` });
      return;
    }
    out.fixed.push({
      resource: id,
      type,
      item,
      quantity,
      unit: price.unit,
      unitPrice: price.usd,
      monthly: quantity * price.usd,
      basis: price.basis,
    });
  }

  private rdsInstance(id: string, p: Record<string, unknown>, add: AddFn, missing: MissingFn): void {
    const cls = str(p.DBInstanceClass);
    const engine = str(p.Engine) ?? '';
    if (!cls) return missing('RDS instance', 'DBInstanceClass is not a literal');
    if (cls === 'db.serverless') {
      const clusterId = refOf(p.DBClusterIdentifier);
      const cluster = clusterId ? this.template.Resources?.[clusterId] : undefined;
      const min = num(obj(cluster?.Properties?.ServerlessV2ScalingConfiguration).MinCapacity);
      if (min === undefined) {
        return missing(
          'Aurora Serverless v2 minimum capacity',
          `cluster of ${id} or its MinCapacity is not in this template`,
        );
      }
      add(`Aurora Serverless v2 minimum ${min} ACU`, 'rds.auroraServerlessV2Acu', min * this.hours);
      return;
    }
    if (engine.startsWith('aurora')) {
      add(`Aurora instance ${cls}`, `rds.aurora.${cls}`, this.hours);
      return;
    }
    const family = engine.replace(/-.*$/, '');
    const copies = p.MultiAZ === true ? 2 : 1;
    const suffix = copies === 2 ? ' (Multi-AZ)' : '';
    add(`RDS ${family} instance ${cls}${suffix}`, `rds.${family}.${cls}`, copies * this.hours);
    const size = num(p.AllocatedStorage);
    const storage = str(p.StorageType) ?? 'gp2';
    if (size === undefined) missing(`RDS storage ${storage}`, 'AllocatedStorage is not a literal');
    else add(`RDS storage ${storage}${suffix}`, `rds.storage.${storage}`, copies * size);
    if (num(p.Iops) !== undefined && storage !== 'gp3') missing('RDS provisioned IOPS', 'no rule for io1/io2 IOPS');
  }

  private openSearch(p: Record<string, unknown>, add: AddFn, missing: MissingFn): void {
    const c = obj(p.ClusterConfig);
    const type = str(c.InstanceType);
    const count = num(c.InstanceCount) ?? 1;
    if (!type) missing('OpenSearch data node', 'ClusterConfig.InstanceType is not set in the template');
    else add(`OpenSearch data node ${type}`, `opensearch.${type}`, count * this.hours);
    if (c.DedicatedMasterEnabled === true) {
      const master = str(c.DedicatedMasterType);
      const masters = num(c.DedicatedMasterCount) ?? 3;
      if (!master) missing('OpenSearch master node', 'DedicatedMasterType is not set');
      else add(`OpenSearch master node ${master}`, `opensearch.${master}`, masters * this.hours);
    }
    if (c.WarmEnabled === true) missing('OpenSearch UltraWarm nodes', 'no rule for warm nodes');
    const ebs = obj(p.EBSOptions);
    if (ebs.EBSEnabled === true) {
      const size = num(ebs.VolumeSize);
      const vol = str(ebs.VolumeType) ?? 'gp2';
      if (size === undefined) missing(`OpenSearch storage ${vol}`, 'EBSOptions.VolumeSize is not a literal');
      else add(`OpenSearch storage ${vol}`, `opensearch.storage.${vol}`, size * count);
    }
  }

  private ec2Instance(id: string, p: Record<string, unknown>, add: AddFn, missing: MissingFn): void {
    const type = str(p.InstanceType);
    const schedule = this.powerSchedule(id);
    const running = schedule && 'hours' in schedule ? schedule.hours : this.hours;
    if (!type) {
      missing('EC2 instance', 'InstanceType is not a literal');
    } else if (!schedule) {
      add(`EC2 instance ${type}`, `ec2.${type}`, this.hours);
    } else if ('error' in schedule) {
      missing(`EC2 instance ${type}`, schedule.error);
    } else {
      add(
        `EC2 instance ${type} (${round(schedule.hours, 1)} h/month by its start/stop schedule)`,
        `ec2.${type}`,
        schedule.hours,
      );
    }
    // An auto-assigned public address is billed like an Elastic IP while the instance runs.
    if (this.hasPublicIpv4(p)) {
      if (schedule && 'error' in schedule) missing('Public IPv4 address', schedule.error);
      else add('Public IPv4 address', 'ec2.publicIpv4', running);
    }
    for (const m of Array.isArray(p.BlockDeviceMappings) ? p.BlockDeviceMappings : []) {
      const ebs = obj(obj(m).Ebs);
      if (!('VolumeSize' in ebs) && !('VolumeType' in ebs)) continue;
      const vol = str(ebs.VolumeType) ?? 'gp2';
      const size = num(ebs.VolumeSize);
      if (size === undefined) missing(`EBS ${vol}`, 'VolumeSize is not set (the AMI snapshot decides it)');
      else add(`EBS ${vol}`, `ec2.ebs.${vol}`, size);
    }
    if (p.Monitoring === true) add('EC2 detailed monitoring', 'ec2.detailedMonitoring', 1);
  }

  /**
   * Whether an instance gets a public IPv4 address: its first network interface asks for one, or
   * (without interfaces) its subnet, when that is in the same template, assigns one on launch.
   */
  private hasPublicIpv4(p: Record<string, unknown>): boolean {
    const interfaces = Array.isArray(p.NetworkInterfaces) ? p.NetworkInterfaces.map((n) => obj(n)) : [];
    if (interfaces.length > 0) {
      return interfaces.some((n) => num(n.DeviceIndex) === 0 && n.AssociatePublicIpAddress === true);
    }
    const subnetId = refOf(p.SubnetId);
    const subnet = subnetId ? this.template.Resources?.[subnetId] : undefined;
    return subnet?.Type === 'AWS::EC2::Subnet' && obj(subnet.Properties).MapPublicIpOnLaunch === true;
  }

  /**
   * Running hours of an instance that EventBridge Scheduler starts and stops (schedules in the same
   * template whose SDK target is ec2:startInstances / ec2:stopInstances and whose input names it).
   */
  private powerSchedule(id: string): { hours: number } | { error: string } | undefined {
    let start: string | undefined;
    let stop: string | undefined;
    for (const r of Object.values(this.template.Resources ?? {})) {
      if (r.Type !== 'AWS::Scheduler::Schedule') continue;
      const target = obj(r.Properties?.Target);
      const arn = str(target.Arn) ?? JSON.stringify(target.Arn ?? '');
      if (!JSON.stringify(target.Input ?? '').includes(`"Ref":"${id}"`)) continue;
      if (obj(r.Properties).State === 'DISABLED') continue;
      const expr = str(r.Properties?.ScheduleExpression);
      if (arn.includes('aws-sdk:ec2:startInstances')) start = expr ?? '(token)';
      if (arn.includes('aws-sdk:ec2:stopInstances')) stop = expr ?? '(token)';
    }
    if (start === undefined && stop === undefined) return undefined;
    if (start === undefined || stop === undefined) {
      return { error: 'the instance has a start or a stop schedule but not both, so its running hours are unknown' };
    }
    const hours = scheduledHoursPerMonth(start, stop, this.hours);
    return hours === undefined
      ? { error: `running hours of schedules ${start} / ${stop} cannot be read (use cron(m h ? * days *) pairs)` }
      : { hours };
  }

  private ecsService(id: string, p: Record<string, unknown>, out: ResourceCost, missing: MissingFn): void {
    const strategy = Array.isArray(p.CapacityProviderStrategy) ? p.CapacityProviderStrategy.map((s) => obj(s)) : [];
    const fargate =
      str(p.LaunchType) === 'FARGATE' ||
      (strategy.length > 0 && strategy.every((s) => str(s.CapacityProvider) === 'FARGATE'));
    if (!fargate) {
      if (str(p.LaunchType) === 'EC2' || strategy.length > 0) {
        missing('ECS tasks', 'only Fargate (not Spot, not EC2 capacity) has a rule');
      }
      return;
    }
    const taskId = refOf(p.TaskDefinition);
    const task = obj(taskId ? this.template.Resources?.[taskId]?.Properties : undefined);
    const cpu = num(task.Cpu);
    const memory = num(task.Memory);
    if (cpu === undefined || memory === undefined) {
      return missing('Fargate task', 'the task definition or its Cpu/Memory is not in this template');
    }
    const arch = str(obj(task.RuntimePlatform).CpuArchitecture) === 'ARM64' ? 'arm64' : 'x86_64';
    const vcpuPrice = this.prices.fixed[`fargate.vcpu.${arch}`];
    const memPrice = this.prices.fixed[`fargate.memoryGb.${arch}`];
    if (!vcpuPrice || !memPrice) return missing('Fargate task', `no Fargate ${arch} prices in the table`);
    // CloudFormation starts a new service with one task when DesiredCount is not set.
    const desired = num(p.DesiredCount) ?? 1;
    const vcpu = cpu / 1024;
    const gb = memory / 1024;
    const perTaskHour = vcpu * vcpuPrice.usd + gb * memPrice.usd;
    const quantity = desired * this.hours;
    out.fixed.push({
      resource: id,
      type: 'AWS::ECS::Service',
      item: `Fargate task ${vcpu} vCPU ${gb} GB ${arch}`,
      quantity,
      unit: 'task-hour',
      unitPrice: perTaskHour,
      monthly: quantity * perTaskHour,
      basis: vcpuPrice.basis === 'estimate' || memPrice.basis === 'estimate' ? 'estimate' : 'documentation',
    });
  }
}

type MissingFn = (item: string, reason: string) => void;
type AddFn = (item: string, key: string, quantity: number) => void;

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

const DAYS: Record<string, number> = { SUN: 1, MON: 2, TUE: 3, WED: 4, THU: 5, FRI: 6, SAT: 7 };

/**
 * Hours a month between a start and a stop schedule of the form `cron(m h ? * days *)` (or daily
 * `cron(m h * * ? *)`), both on the same days; undefined when they cannot be read that way.
 */
export function scheduledHoursPerMonth(start: string, stop: string, hoursPerMonth = 730): number | undefined {
  const a = parseDailyCron(start);
  const b = parseDailyCron(stop);
  if (!a || !b || a.dayKey !== b.dayKey) return undefined;
  const minutes = b.minuteOfDay - a.minuteOfDay;
  if (minutes <= 0) return undefined;
  const daysPerMonth = hoursPerMonth / 24;
  const runsPerMonth = a.days === 7 ? daysPerMonth : (a.days * daysPerMonth) / 7;
  return (runsPerMonth * minutes) / 60;
}

function parseDailyCron(expr: string): { minuteOfDay: number; days: number; dayKey: string } | undefined {
  const m = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expr.trim());
  if (!m) return undefined;
  const [, min, hour, dom, month, dow, year] = m as unknown as [string, string, string, string, string, string, string];
  if (!/^\d+$/.test(min) || !/^\d+$/.test(hour) || month !== '*' || year !== '*') return undefined;
  let days: Set<number> | undefined;
  if ((dom === '*' && dow === '?') || (dom === '?' && dow === '*')) days = new Set([1, 2, 3, 4, 5, 6, 7]);
  else if (dom === '?') days = daysOfWeek(dow);
  if (days === undefined) return undefined;
  return { minuteOfDay: Number(hour) * 60 + Number(min), days: days.size, dayKey: [...days].sort().join(',') };
}

function daysOfWeek(dow: string): Set<number> | undefined {
  const seen = new Set<number>();
  for (const part of dow.toUpperCase().split(',')) {
    const [from, to] = part.split('-');
    const f = from ? (DAYS[from] ?? (/^[1-7]$/.test(from) ? Number(from) : undefined)) : undefined;
    const t = to === undefined ? f : (DAYS[to] ?? (/^[1-7]$/.test(to) ? Number(to) : undefined));
    if (f === undefined || t === undefined || t < f) return undefined;
    for (let d = f; d <= t; d++) seen.add(d);
  }
  return seen;
}
