import { CfnRule, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as r53resolver from 'aws-cdk-lib/aws-route53resolver';
import { Construct, IDependable } from 'constructs';
import { OnPremisesConnectivity, OnPremisesDns } from '../config/environment-config';
import { isDocumentationIpv4, parseIpv4 } from '../config/ipv4';

export interface OnPremisesNetworkProps {
  readonly vpc: ec2.IVpc;
  /** The on-premises range every route points at. */
  readonly onPremisesCidr: string;
  /** How to get there (validated config). */
  readonly connectivity: OnPremisesConnectivity;
  /** DNS forwarding for on-premises names. @default none (sources are addressed by IP) */
  readonly dns?: OnPremisesDns;
  /**
   * Subnets whose route tables get a route to `onPremisesCidr`: where something talks to
   * on-premises (DMS, the DataSync agent, the resolver endpoint).
   */
  readonly routedSubnets: readonly ec2.ISubnet[];
  /**
   * Subnets of the Transit Gateway attachment and of the resolver endpoint, one per AZ (at least two).
   */
  readonly attachmentSubnets: readonly ec2.ISubnet[];
}

/** Route 53 Resolver sends DNS queries to on-premises servers on port 53, UDP and TCP. */
const DNS = [ec2.Port.udp(53), ec2.Port.tcp(53)];

/**
 * The way from the VPC to the on-premises network, built from `network.onPremisesConnectivity`:
 * a Site-to-Site VPN, an attachment to an existing Transit Gateway, or routes to a target the
 * network team provides. Adds a route for the on-premises CIDR to every routed subnet and, when
 * configured, a Resolver outbound endpoint with forwarding rules for the on-premises domains.
 */
export class OnPremisesNetwork extends Construct {
  /** Route table entries for `onPremisesCidr`, one per routed subnet. */
  public readonly routes: ec2.CfnRoute[] = [];
  /** The virtual private gateway (VPN only). */
  public readonly vpnGateway?: ec2.CfnVPNGateway;
  /** The VPN connection (VPN only); its tunnel details are what the on-premises device is configured with. */
  public readonly vpnConnection?: ec2.CfnVPNConnection;
  /** The Transit Gateway attachment (Transit Gateway only). */
  public readonly transitGatewayAttachment?: ec2.CfnTransitGatewayAttachment;
  /** Resolver outbound endpoint (when DNS is configured). */
  public readonly resolverEndpoint?: r53resolver.CfnResolverEndpoint;
  /** Security group of the resolver endpoint: DNS to the on-premises servers only. */
  public readonly resolverSecurityGroup?: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: OnPremisesNetworkProps) {
    super(scope, id);
    const { vpc, connectivity } = props;
    if (props.routedSubnets.length === 0) throw new Error('OnPremisesNetwork needs at least one routed subnet');

    let target: Pick<
      ec2.CfnRouteProps,
      'gatewayId' | 'transitGatewayId' | 'vpcPeeringConnectionId' | 'networkInterfaceId'
    >;
    let routeAfter: IDependable[] = [];
    switch (connectivity.kind) {
      case 'site-to-site-vpn': {
        const bgp = connectivity.routing.type === 'bgp';
        const vgw = new ec2.CfnVPNGateway(this, 'VpnGateway', {
          type: 'ipsec.1',
          amazonSideAsn: connectivity.amazonSideAsn ?? 64512,
        });
        const attachment = new ec2.CfnVPCGatewayAttachment(this, 'VpnGatewayAttachment', {
          vpcId: vpc.vpcId,
          vpnGatewayId: vgw.ref,
        });
        const customerGateway = new ec2.CfnCustomerGateway(this, 'CustomerGateway', {
          type: 'ipsec.1',
          ipAddress: connectivity.customerGatewayIp,
          // Static routing still needs an ASN on the customer gateway; 65000 is AWS's default.
          bgpAsn: connectivity.routing.type === 'bgp' ? connectivity.routing.customerGatewayAsn : 65000,
        });
        const vpn = new ec2.CfnVPNConnection(this, 'VpnConnection', {
          type: 'ipsec.1',
          customerGatewayId: customerGateway.ref,
          vpnGatewayId: vgw.ref,
          staticRoutesOnly: !bgp,
        });
        vpn.addDependency(attachment);
        if (!bgp) {
          new ec2.CfnVPNConnectionRoute(this, 'VpnStaticRoute', {
            vpnConnectionId: vpn.ref,
            destinationCidrBlock: props.onPremisesCidr,
          });
        }
        this.vpnGateway = vgw;
        this.vpnConnection = vpn;
        target = { gatewayId: vgw.ref };
        // A route to a gateway that is not attached yet is refused.
        routeAfter = [attachment];
        refuseDocumentationAddress(this, connectivity.customerGatewayIp);
        break;
      }
      case 'transit-gateway': {
        const attachment = new ec2.CfnTransitGatewayAttachment(this, 'TransitGatewayAttachment', {
          transitGatewayId: connectivity.transitGatewayId,
          vpcId: vpc.vpcId,
          subnetIds: props.attachmentSubnets.map((s) => s.subnetId),
        });
        this.transitGatewayAttachment = attachment;
        target = { transitGatewayId: connectivity.transitGatewayId };
        routeAfter = [attachment];
        break;
      }
      case 'already-provided': {
        const t = connectivity.routeTarget;
        target =
          t.type === 'transit-gateway'
            ? { transitGatewayId: t.id }
            : t.type === 'vpn-gateway'
              ? { gatewayId: t.id }
              : t.type === 'vpc-peering-connection'
                ? { vpcPeeringConnectionId: t.id }
                : { networkInterfaceId: t.id };
        break;
      }
    }

    // One route per route table; subnets of one table (none here today) would collide.
    const seen = new Set<string>();
    props.routedSubnets.forEach((subnet, i) => {
      const table = subnet.routeTable.routeTableId;
      if (seen.has(table)) return;
      seen.add(table);
      const route = new ec2.CfnRoute(this, `OnPremisesRoute${i + 1}`, {
        routeTableId: table,
        destinationCidrBlock: props.onPremisesCidr,
        ...target,
      });
      route.node.addDependency(...routeAfter);
      this.routes.push(route);
    });

    if (props.dns) {
      if (props.attachmentSubnets.length < 2) {
        throw new Error('A Route 53 Resolver endpoint needs subnets in two or more AZs');
      }
      const sg = new ec2.SecurityGroup(this, 'ResolverSecurityGroup', {
        vpc,
        description: 'Route 53 Resolver outbound endpoint: DNS to the on-premises servers only',
        allowAllOutbound: false,
      });
      for (const server of props.dns.serverIps) {
        for (const port of DNS) sg.addEgressRule(ec2.Peer.ipv4(`${server}/32`), port, `DNS to ${server}`);
      }
      const endpoint = new r53resolver.CfnResolverEndpoint(this, 'OutboundEndpoint', {
        direction: 'OUTBOUND',
        ipAddresses: props.attachmentSubnets.map((s) => ({ subnetId: s.subnetId })),
        securityGroupIds: [sg.securityGroupId],
      });
      // Queries leave through the route to on-premises; without it they time out.
      endpoint.node.addDependency(...this.routes);
      props.dns.domains.forEach((domainName, i) => {
        const rule = new r53resolver.CfnResolverRule(this, `ForwardRule${i + 1}`, {
          ruleType: 'FORWARD',
          domainName,
          resolverEndpointId: endpoint.attrResolverEndpointId,
          targetIps: props.dns!.serverIps.map((ip) => ({ ip, port: '53' })),
        });
        new r53resolver.CfnResolverRuleAssociation(this, `ForwardRuleAssociation${i + 1}`, {
          resolverRuleId: rule.attrResolverRuleId,
          vpcId: vpc.vpcId,
        });
      });
      this.resolverEndpoint = endpoint;
      this.resolverSecurityGroup = sg;
    }
  }
}

/**
 * The committed config carries a documentation-range customer gateway so that synth works offline;
 * a deploy of it would build a VPN to nowhere. Refused at deploy time, synth stays possible.
 */
function refuseDocumentationAddress(scope: Construct, ip: string): void {
  const parsed = parseIpv4(ip);
  if (parsed === undefined || !isDocumentationIpv4(parsed)) return;
  new CfnRule(scope, 'CustomerGatewayConfigured', {
    assertions: [
      {
        assert: Fn.conditionEquals('customer-gateway-configured', 'example-address'),
        assertDescription: `network.onPremisesConnectivity.customerGatewayIp is ${ip}, an example (documentation) address: set the public IP of your VPN device in lib/config/environments.ts (docs/operations.md).`,
      },
    ],
  });
}
