import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CfnOutput, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { INTERFACE_ENDPOINT_SERVICES, InterfaceEndpointService } from '../config/environment-config';
import { DmsAccountRoles } from '../constructs/dms-account-roles';
import { natInstanceProvider, secureNatInstances } from '../constructs/nat-instances';
import { OnPremisesNetwork } from '../constructs/on-premises-network';
import { SharedLogDeliveryPolicy } from '../constructs/shared-log-delivery-policy';
import { OPENSEARCH_SERVICE_LINKED_ROLE, ServiceLinkedRole } from '../constructs/service-linked-role';
import { logRetention, MigrationStackProps } from './migration-stack-props';

export type NetworkStackProps = MigrationStackProps;

const MYSQL = ec2.Port.tcp(3306);
const HTTPS = ec2.Port.tcp(443);

/**
 * The VPC every private workload runs in, its endpoints and flow logs, and one security group per
 * workload. Groups start closed (no default egress) and are opened here to exactly their peers, so
 * the whole network policy of the stage reads in one file.
 */
export class NetworkStack extends Stack {
  public readonly vpc: ec2.IVpc;
  /** Aurora cluster. Ingress: MySQL from DMS and from the rotation function. */
  public readonly databaseSecurityGroup: ec2.SecurityGroup;
  /** DMS replication instance. Egress: MySQL to Aurora and to on-premises, HTTPS to endpoints. */
  public readonly dmsSecurityGroup: ec2.SecurityGroup;
  /** OpenSearch domain. Ingress: HTTPS from Lambda (the LoggingStack adds its delivery stream). */
  public readonly openSearchSecurityGroup: ec2.SecurityGroup;
  /** Lambda functions that run inside the VPC (custom resources). */
  public readonly lambdaSecurityGroup: ec2.SecurityGroup;
  /** DataSync agent. Ingress: HTTP 80 from Lambda for activation only. */
  public readonly dataSyncAgentSecurityGroup: ec2.SecurityGroup;
  /** The Secrets Manager rotation function of the Aurora credentials. */
  public readonly rotationSecurityGroup: ec2.SecurityGroup;
  /**
   * `dms-vpc-role` and `dms-cloudwatch-logs-role`, ensured here (long before DmsStack uses them)
   * so IAM has propagated them when DMS creates its subnet group.
   */
  public readonly dmsAccountRoles: DmsAccountRoles;
  /**
   * `AWSServiceRoleForAmazonOpenSearchService`, which OpenSearch needs before it can create a domain
   * in a VPC; ensured here, a few minutes before LoggingStack creates the domain, for IAM to propagate.
   */
  public readonly openSearchServiceLinkedRole: ServiceLinkedRole;
  /**
   * The way to the on-premises network (VPN, Transit Gateway attachment or routes to a given
   * target), the routes to `onPremisesCidr` from the private subnets, and DNS forwarding.
   */
  public readonly onPremises: OnPremisesNetwork;
  /**
   * The account's one CloudWatch Logs resource policy for OpenSearch and DataSync log delivery,
   * shared by every stage in the account (the quota is 10 per account and region).
   */
  public readonly logDeliveryPolicy: SharedLogDeliveryPolicy;
  /** Interface endpoints. Ingress: HTTPS from inside the VPC. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { network } = props.config;

    const natInstances =
      network.natProvider?.kind === 'instance' ? natInstanceProvider(network.natProvider.instanceType) : undefined;
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(network.cidr),
      maxAzs: network.maxAzs,
      natGateways: network.natGateways,
      ...(natInstances ? { natGatewayProvider: natInstances } : {}),
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: logRetention(network.flowLogRetentionDays),
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    this.vpc = vpc;
    if (natInstances) secureNatInstances(natInstances, vpc);

    const sg = (id: string, description: string) =>
      new ec2.SecurityGroup(this, id, { vpc, description, allowAllOutbound: false });
    this.endpointSecurityGroup = sg('EndpointSecurityGroup', 'Interface VPC endpoints');
    this.databaseSecurityGroup = sg('DatabaseSecurityGroup', 'Aurora MySQL cluster');
    this.dmsSecurityGroup = sg('DmsSecurityGroup', 'DMS replication instance');
    this.openSearchSecurityGroup = sg('OpenSearchSecurityGroup', 'OpenSearch audit domain');
    this.lambdaSecurityGroup = sg('LambdaSecurityGroup', 'Lambda functions inside the VPC');
    this.dataSyncAgentSecurityGroup = sg('DataSyncAgentSecurityGroup', 'DataSync agent instance');
    this.rotationSecurityGroup = sg('RotationSecurityGroup', 'Aurora credential rotation function');

    this.endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), HTTPS, 'AWS APIs from the VPC');
    Validations.of(this.endpointSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'Ingress is the VPC CIDR on 443 only (a token cdk-nag cannot read), not 0.0.0.0/0.',
    });

    // Private workloads reach these APIs without leaving the VPC: DMS and rotation read Secrets
    // Manager, VPC custom resources write logs and call STS/KMS (or go through NAT where config
    // leaves an endpoint out to save its hourly charge).
    const interfaceEndpoints: Record<InterfaceEndpointService, ec2.InterfaceVpcEndpointAwsService> = {
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      Sts: ec2.InterfaceVpcEndpointAwsService.STS,
    };
    const endpointSubnets = vpc
      .selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, onePerAz: true })
      .subnets.slice(0, network.interfaceEndpointAzs ?? network.maxAzs);
    for (const name of network.interfaceEndpoints ?? INTERFACE_ENDPOINT_SERVICES) {
      vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service: interfaceEndpoints[name],
        subnets: { subnets: endpointSubnets },
        securityGroups: [this.endpointSecurityGroup],
        privateDnsEnabled: true,
      });
    }

    // Everything that talks to on-premises (DMS, the DataSync agent, the resolver endpoint) runs in
    // the private subnets; they get the route. The isolated subnets (Aurora, OpenSearch, Firehose)
    // exchange nothing with on-premises and get none, so no on-premises host can reach them.
    this.onPremises = new OnPremisesNetwork(this, 'OnPremises', {
      vpc,
      onPremisesCidr: network.onPremisesCidr,
      connectivity: network.onPremisesConnectivity,
      ...(network.onPremisesDns ? { dns: network.onPremisesDns } : {}),
      routedSubnets: vpc.privateSubnets,
      attachmentSubnets: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, onePerAz: true }).subnets,
    });

    const onPrem = ec2.Peer.ipv4(network.onPremisesCidr);

    this.databaseSecurityGroup.addIngressRule(this.dmsSecurityGroup, MYSQL, 'DMS writes to Aurora');
    this.dmsSecurityGroup.addEgressRule(this.databaseSecurityGroup, MYSQL, 'DMS target: Aurora');
    this.dmsSecurityGroup.addEgressRule(onPrem, MYSQL, 'DMS source: on-premises MySQL');
    this.dmsSecurityGroup.addEgressRule(this.endpointSecurityGroup, HTTPS, 'Secrets Manager endpoint');
    this.endpointSecurityGroup.addIngressRule(this.dmsSecurityGroup, HTTPS, 'DMS reads endpoint secrets');

    this.databaseSecurityGroup.addIngressRule(this.rotationSecurityGroup, MYSQL, 'Credential rotation');
    this.rotationSecurityGroup.addEgressRule(this.databaseSecurityGroup, MYSQL, 'Rotate the Aurora password');
    this.rotationSecurityGroup.addEgressRule(this.endpointSecurityGroup, HTTPS, 'Secrets Manager endpoint');

    this.lambdaSecurityGroup.addEgressRule(this.openSearchSecurityGroup, HTTPS, 'OpenSearch REST API');
    this.lambdaSecurityGroup.addEgressRule(this.endpointSecurityGroup, HTTPS, 'AWS APIs via endpoints');
    this.lambdaSecurityGroup.addEgressRule(this.dataSyncAgentSecurityGroup, ec2.Port.tcp(80), 'Agent activation key');
    // DataSync and DMS have no endpoint here; the VPC custom resources reach them through NAT.
    this.lambdaSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), HTTPS, 'Regional AWS APIs through NAT');
    this.openSearchSecurityGroup.addIngressRule(this.lambdaSecurityGroup, HTTPS, 'Setup custom resource');

    this.dataSyncAgentSecurityGroup.addIngressRule(this.lambdaSecurityGroup, ec2.Port.tcp(80), 'Activation request');
    // The agent talks to the DataSync service endpoint over HTTPS (activation and control) and to
    // the on-premises share over NFS or SMB; nothing else.
    this.dataSyncAgentSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), HTTPS, 'DataSync service endpoint');
    this.dataSyncAgentSecurityGroup.addEgressRule(onPrem, ec2.Port.tcp(2049), 'NFS share');
    this.dataSyncAgentSecurityGroup.addEgressRule(onPrem, ec2.Port.tcp(111), 'NFS portmapper');
    this.dataSyncAgentSecurityGroup.addEgressRule(onPrem, ec2.Port.tcp(445), 'SMB share');
    this.dataSyncAgentSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.udp(123), 'NTP for the agent clock');

    this.dmsAccountRoles = new DmsAccountRoles(this, 'DmsAccountRoles');
    this.logDeliveryPolicy = new SharedLogDeliveryPolicy(this, 'LogDeliveryPolicy');
    this.openSearchServiceLinkedRole = new ServiceLinkedRole(
      this,
      'OpenSearchServiceLinkedRole',
      OPENSEARCH_SERVICE_LINKED_ROLE,
    );

    new CfnOutput(this, 'VpcId', { value: vpc.vpcId, description: 'VPC of the migration stage' });
  }
}
