import { CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { allowCloudWatchLogs, denyGrantsExceptForAwsServices } from '../../constructs/key-policy';
import { DmsAccountRoles } from '../../constructs/dms-account-roles';
import { logRetention } from '../migration-stack-props';
import { PaymentRole, PaymentStackProps, paymentRemoval, POSTGRES_PORT } from './payment-stack-props';
import { PAYMENT_COMPLIANCE_PACKS } from '../../compliance/payment-acknowledgements';

/** The security groups of one environment (source or target). */
export interface PaymentEnvironmentSecurityGroups {
  /** Internet-facing load balancer. Ingress: the listener ports from anywhere. Egress: the container port to the service. */
  readonly loadBalancer: ec2.SecurityGroup;
  /** Fargate tasks. Ingress: the container port from the load balancer. Egress: PostgreSQL to its database, HTTPS out. */
  readonly service: ec2.SecurityGroup;
  /** RDS instance. Ingress: PostgreSQL from its service, DMS and the rotation functions. */
  readonly database: ec2.SecurityGroup;
}

/**
 * The shared network of the cutover: one VPC holding both environments (the cutover moves traffic,
 * not networks), the security groups of every workload opened to exactly their peers, and the KMS
 * keys. All rules live here, with a literal PostgreSQL port, so the whole network policy reads in
 * one file and no rule references a stack that depends on this one.
 */
export class PaymentNetworkStack extends Stack {
  public readonly vpc: ec2.Vpc;
  public readonly securityGroups: Record<PaymentRole, PaymentEnvironmentSecurityGroups>;
  /** DMS replication instance. Egress: PostgreSQL to both databases, HTTPS to the Secrets Manager endpoint. */
  public readonly dmsSecurityGroup: ec2.SecurityGroup;
  /** Secrets Manager rotation functions. Egress: PostgreSQL to both databases, HTTPS to the endpoint. */
  public readonly rotationSecurityGroup: ec2.SecurityGroup;
  /**
   * The cutover workflow's database fence function. Egress: PostgreSQL to both databases, HTTPS to the
   * Secrets Manager endpoint (it reads the admin secrets).
   */
  public readonly fenceSecurityGroup: ec2.SecurityGroup;
  /** Interface endpoints. Ingress: HTTPS from DMS, rotation and the services. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** Databases, their secrets, DMS storage. */
  public readonly dataKey: kms.Key;
  /** Transaction-log buckets and every CloudWatch log group of the stage. */
  public readonly logKey: kms.Key;
  /** `dms-vpc-role` and `dms-cloudwatch-logs-role`, ensured idempotently (shared with the migration stage). */
  public readonly dmsAccountRoles: DmsAccountRoles;
  /** Ports the load balancers listen on: 443 (and 80 for the redirect) with a certificate, else 80. */
  public readonly listenerPorts: readonly number[];

  constructor(scope: Construct, id: string, props: PaymentStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = paymentRemoval(config);

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: `${props.namePrefix}: databases, database secrets and DMS storage`,
      enableKeyRotation: true,
      removalPolicy,
    });
    denyGrantsExceptForAwsServices(this.dataKey);
    this.logKey = new kms.Key(this, 'LogKey', {
      description: `${props.namePrefix}: transaction-log buckets and CloudWatch log groups`,
      enableKeyRotation: true,
      removalPolicy,
    });
    denyGrantsExceptForAwsServices(this.logKey);
    // CloudWatch Logs encrypts the stage's log groups with this key, limited to this account and region.
    allowCloudWatchLogs(this.logKey);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(config.network.cidr),
      maxAzs: 2,
      natGateways: config.network.natGateways,
      subnetConfiguration: [
        // Nothing here needs an automatic public IP: NAT gateways use Elastic IPs, the ALBs manage their own.
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: logRetention(config.logRetentionDays),
      encryptionKey: this.logKey,
      removalPolicy,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    const sg = (sgId: string, description: string) =>
      new ec2.SecurityGroup(this, sgId, { vpc: this.vpc, description, allowAllOutbound: false });
    this.endpointSecurityGroup = sg('EndpointSecurityGroup', 'Interface VPC endpoints of the payment VPC');
    this.dmsSecurityGroup = sg('DmsSecurityGroup', 'DMS replication instance (source to target)');
    this.rotationSecurityGroup = sg('RotationSecurityGroup', 'Secrets Manager rotation functions');
    this.fenceSecurityGroup = sg('FenceSecurityGroup', 'Cutover database fence function');
    this.vpc.addInterfaceEndpoint('SecretsManagerEndpoint', {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.endpointSecurityGroup],
      privateDnsEnabled: true,
      // Opened below to exactly the groups that call Secrets Manager, not to the whole VPC.
      open: false,
    });

    const postgres = ec2.Port.tcp(POSTGRES_PORT);
    const https = ec2.Port.tcp(443);
    const containerPort = ec2.Port.tcp(config.service.containerPort);
    this.listenerPorts = config.service.certificateArn ? [443, 80] : [80];

    const environment = (role: PaymentRole, label: string): PaymentEnvironmentSecurityGroups => {
      const groups = {
        loadBalancer: sg(`${label}LoadBalancerSecurityGroup`, `${label} payment load balancer`),
        service: sg(`${label}ServiceSecurityGroup`, `${label} payment service tasks`),
        database: sg(`${label}DatabaseSecurityGroup`, `${label} payment database`),
      };
      for (const port of this.listenerPorts) {
        groups.loadBalancer.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `Payment API clients (${port})`);
      }
      Validations.of(groups.loadBalancer).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: `The ${role} load balancer serves the public payment API; ingress is the listener ports only (${this.listenerPorts.join(', ')}).`,
      });
      groups.loadBalancer.addEgressRule(groups.service, containerPort, 'Forward to the service tasks');
      groups.service.addIngressRule(groups.loadBalancer, containerPort, 'Requests from the load balancer');
      groups.service.addEgressRule(groups.database, postgres, `The ${role} database`);
      // ECR, CloudWatch Logs and S3 through the NAT gateway and the S3 gateway endpoint.
      groups.service.addEgressRule(ec2.Peer.anyIpv4(), https, 'AWS APIs (image pull, logs, S3)');
      groups.database.addIngressRule(groups.service, postgres, `The ${role} service`);
      groups.database.addIngressRule(this.dmsSecurityGroup, postgres, 'DMS replication');
      groups.database.addIngressRule(this.rotationSecurityGroup, postgres, 'Credential rotation');
      this.dmsSecurityGroup.addEgressRule(groups.database, postgres, `DMS to the ${role} database`);
      this.rotationSecurityGroup.addEgressRule(groups.database, postgres, `Rotate ${role} credentials`);
      groups.database.addIngressRule(this.fenceSecurityGroup, postgres, 'Cutover fence (read-only switch)');
      this.fenceSecurityGroup.addEgressRule(groups.database, postgres, `Fence the ${role} database`);
      return groups;
    };
    this.securityGroups = { source: environment('source', 'Source'), target: environment('target', 'Target') };
    // Both services follow the database pointer: before the write flip the target's tasks write to the
    // source database, after it the source's tasks (still taking the last share of traffic) write to the target.
    for (const [from, to] of [
      ['source', 'target'],
      ['target', 'source'],
    ] as const) {
      this.securityGroups[from].service.addEgressRule(
        this.securityGroups[to].database,
        postgres,
        `The ${to} database (database pointer)`,
      );
      this.securityGroups[to].database.addIngressRule(
        this.securityGroups[from].service,
        postgres,
        `The ${from} service (database pointer)`,
      );
    }

    for (const [peer, why] of [
      [this.dmsSecurityGroup, 'DMS reads endpoint secrets'],
      [this.rotationSecurityGroup, 'Rotation functions call Secrets Manager'],
      [this.fenceSecurityGroup, 'The cutover fence reads the admin secrets'],
    ] as const) {
      peer.addEgressRule(this.endpointSecurityGroup, https, 'Secrets Manager endpoint');
      this.endpointSecurityGroup.addIngressRule(peer, https, why);
    }

    this.dmsAccountRoles = new DmsAccountRoles(this, 'DmsAccountRoles');

    for (const subnet of this.vpc.publicSubnets) {
      Validations.of(subnet).acknowledge(
        ...PAYMENT_COMPLIANCE_PACKS.map((pack) => ({
          id: `${pack}-VPCNoUnrestrictedRouteToIGW`,
          reason:
            'Public subnet of the internet-facing load balancers and the NAT gateways; databases, DMS and tasks run in private and isolated subnets without such a route.',
        })),
      );
    }

    new CfnOutput(this, 'VpcId', { value: this.vpc.vpcId, description: 'VPC of the payment cutover' });
  }
}
