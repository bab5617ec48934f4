import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EnvironmentConfig, OnPremisesConnectivity, OnPremisesDns } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { resourcesOf } from '../support/stage-fixture';

const DNS: OnPremisesDns = {
  domains: ['corp.example.com', 'db.example.net'],
  serverIps: ['192.168.0.10', '192.168.1.10'],
};

interface Built {
  readonly template: Template;
  /** `{ Ref: ... }` of the route tables, by subnet type. */
  readonly tables: { private: unknown[]; isolated: unknown[]; public: unknown[] };
}

function build(connectivity: OnPremisesConnectivity, dns: OnPremisesDns | null = DNS): Built {
  const base = loadEnvironmentConfig('dev', () => undefined, {});
  const network = { ...base.network };
  delete network.onPremisesDns;
  const config: EnvironmentConfig = {
    ...base,
    network: { ...network, onPremisesConnectivity: connectivity, ...(dns ? { onPremisesDns: dns } : {}) },
  };
  const app = new App();
  const stack = new NetworkStack(app, 'Network', { config, env: { account: '111111111111', region: 'us-west-2' } });
  const tables = (subnets: { routeTable: { routeTableId: string } }[]) =>
    subnets.map((s) => stack.resolve(s.routeTable.routeTableId));
  return {
    template: Template.fromStack(stack),
    tables: {
      private: tables(stack.vpc.privateSubnets),
      isolated: tables(stack.vpc.isolatedSubnets),
      public: tables(stack.vpc.publicSubnets),
    },
  };
}

/** Routes to the on-premises CIDR, by route table. */
function onPremisesRoutes(t: Template): [string, Record<string, any>][] {
  return resourcesOf(t, 'AWS::EC2::Route').filter(([, p]) => p.DestinationCidrBlock === '192.168.0.0/16');
}

function dependsOn(t: Template, logicalId: string): string[] {
  return ((t.toJSON().Resources as Record<string, { DependsOn?: string[] }>)[logicalId]?.DependsOn ?? []).slice();
}

const logicalIdOf = (t: Template, type: string) => {
  const ids = Object.keys(t.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

function expectRoutesOnlyInPrivateSubnets(b: Built, target: Record<string, unknown>): [string, Record<string, any>][] {
  const routes = onPremisesRoutes(b.template);
  expect(routes.map(([, p]) => p.RouteTableId)).toEqual(b.tables.private);
  for (const [, p] of routes) expect(p).toMatchObject(target);
  for (const table of [...b.tables.isolated, ...b.tables.public]) {
    expect(routes.map(([, p]) => p.RouteTableId)).not.toContainEqual(table);
  }
  return routes;
}

describe('Site-to-Site VPN with BGP', () => {
  const b = build({
    kind: 'site-to-site-vpn',
    customerGatewayIp: '198.18.7.1',
    routing: { type: 'bgp', customerGatewayAsn: 65010 },
    amazonSideAsn: 64600,
  });
  const t = b.template;

  it('creates the gateway, attaches it, and connects it to the customer gateway over BGP', () => {
    t.hasResourceProperties('AWS::EC2::VPNGateway', { Type: 'ipsec.1', AmazonSideAsn: 64600 });
    t.hasResourceProperties('AWS::EC2::VPCGatewayAttachment', {
      VpnGatewayId: { Ref: logicalIdOf(t, 'AWS::EC2::VPNGateway') },
      VpcId: { Ref: Match.stringLikeRegexp('^Vpc') },
    });
    t.hasResourceProperties('AWS::EC2::CustomerGateway', { IpAddress: '198.18.7.1', BgpAsn: 65010, Type: 'ipsec.1' });
    t.hasResourceProperties('AWS::EC2::VPNConnection', {
      StaticRoutesOnly: false,
      CustomerGatewayId: { Ref: logicalIdOf(t, 'AWS::EC2::CustomerGateway') },
    });
    t.resourceCountIs('AWS::EC2::VPNConnectionRoute', 0);
  });

  it('routes the on-premises CIDR from every private subnet to the gateway, after it is attached', () => {
    const routes = expectRoutesOnlyInPrivateSubnets(b, { GatewayId: { Ref: logicalIdOf(t, 'AWS::EC2::VPNGateway') } });
    expect(routes).toHaveLength(2);
    const vpnAttachment = resourcesOf(t, 'AWS::EC2::VPCGatewayAttachment').find(([, p]) => p.VpnGatewayId)![0];
    for (const [id] of routes) expect(dependsOn(t, id)).toContain(vpnAttachment);
  });

  it('accepts a real customer gateway address without a deploy guard', () => {
    expect(Object.keys(t.toJSON().Rules ?? {}).filter((id) => id.includes('CustomerGatewayConfigured'))).toEqual([]);
  });
});

describe('Site-to-Site VPN with static routes', () => {
  const b = build({ kind: 'site-to-site-vpn', customerGatewayIp: '203.0.113.10', routing: { type: 'static' } });
  const t = b.template;

  it('announces the on-premises CIDR as a static VPN route', () => {
    t.hasResourceProperties('AWS::EC2::VPNConnection', { StaticRoutesOnly: true });
    t.hasResourceProperties('AWS::EC2::VPNConnectionRoute', {
      DestinationCidrBlock: '192.168.0.0/16',
      VpnConnectionId: { Ref: logicalIdOf(t, 'AWS::EC2::VPNConnection') },
    });
    expectRoutesOnlyInPrivateSubnets(b, { GatewayId: { Ref: logicalIdOf(t, 'AWS::EC2::VPNGateway') } });
  });

  it('refuses to deploy the example (documentation-range) customer gateway', () => {
    const rules = t.toJSON().Rules as Record<string, { Assertions: { AssertDescription: string }[] }>;
    const rule = Object.entries(rules).find(([id]) => id.includes('CustomerGatewayConfigured'));
    expect(rule?.[1].Assertions[0]!.AssertDescription).toMatch(/customerGatewayIp is 203\.0\.113\.10, an example/);
  });
});

describe('existing Transit Gateway', () => {
  const b = build({ kind: 'transit-gateway', transitGatewayId: 'tgw-0123456789abcdef0' });
  const t = b.template;

  it('attaches the VPC in its private subnets, one per AZ', () => {
    const [[, attachment]] = resourcesOf(t, 'AWS::EC2::TransitGatewayAttachment') as [[string, Record<string, any>]];
    expect(attachment.TransitGatewayId).toBe('tgw-0123456789abcdef0');
    expect(attachment.SubnetIds).toHaveLength(2);
    const privateSubnetRefs = resourcesOf(t, 'AWS::EC2::Subnet')
      .filter(([, p]) => JSON.stringify(p.Tags).includes('"private"'))
      .map(([id]) => ({ Ref: id }));
    expect(attachment.SubnetIds).toEqual(privateSubnetRefs);
    t.resourceCountIs('AWS::EC2::VPNGateway', 0);
  });

  it('routes the on-premises CIDR to the Transit Gateway once the attachment exists', () => {
    const routes = expectRoutesOnlyInPrivateSubnets(b, { TransitGatewayId: 'tgw-0123456789abcdef0' });
    for (const [id] of routes) {
      expect(dependsOn(t, id)).toContain(logicalIdOf(t, 'AWS::EC2::TransitGatewayAttachment'));
    }
  });
});

describe('connectivity already provided', () => {
  it.each([
    ['transit-gateway', 'tgw-0123456789abcdef0', 'TransitGatewayId'],
    ['vpn-gateway', 'vgw-0123456789abcdef0', 'GatewayId'],
    ['vpc-peering-connection', 'pcx-0123456789abcdef0', 'VpcPeeringConnectionId'],
    ['network-interface', 'eni-0123456789abcdef0', 'NetworkInterfaceId'],
  ] as const)('routes to the named %s and creates nothing else', (type, id, property) => {
    const b = build({ kind: 'already-provided', routeTarget: { type, id } });
    expectRoutesOnlyInPrivateSubnets(b, { [property]: id });
    for (const created of ['AWS::EC2::VPNGateway', 'AWS::EC2::TransitGatewayAttachment', 'AWS::EC2::CustomerGateway']) {
      b.template.resourceCountIs(created, 0);
    }
  });
});

describe('DNS for on-premises names', () => {
  const b = build({ kind: 'transit-gateway', transitGatewayId: 'tgw-0123456789abcdef0' });
  const t = b.template;

  it('puts an outbound Resolver endpoint in the private subnets with its own security group', () => {
    const [[endpointId, endpoint]] = resourcesOf(t, 'AWS::Route53Resolver::ResolverEndpoint') as [
      [string, Record<string, any>],
    ];
    expect(endpoint.Direction).toBe('OUTBOUND');
    const [[, attachment]] = resourcesOf(t, 'AWS::EC2::TransitGatewayAttachment') as [[string, Record<string, any>]];
    expect(endpoint.IpAddresses).toEqual(attachment.SubnetIds.map((SubnetId: unknown) => ({ SubnetId })));
    expect(endpoint.SecurityGroupIds).toHaveLength(1);
    // Queries leave through the on-premises routes.
    for (const [routeId] of onPremisesRoutes(t)) expect(dependsOn(t, endpointId)).toContain(routeId);
  });

  it('lets the endpoint send only DNS, only to the on-premises servers', () => {
    const sgId = (
      resourcesOf(t, 'AWS::Route53Resolver::ResolverEndpoint')[0]![1].SecurityGroupIds[0] as {
        'Fn::GetAtt': [string, string];
      }
    )['Fn::GetAtt'][0];
    const sg = t.toJSON().Resources[sgId].Properties;
    const egress = (sg.SecurityGroupEgress as Record<string, unknown>[]).map((r) => [
      r.IpProtocol,
      r.FromPort,
      r.ToPort,
      r.CidrIp,
    ]);
    expect(egress.sort()).toEqual(
      [
        ['tcp', 53, 53, '192.168.0.10/32'],
        ['udp', 53, 53, '192.168.0.10/32'],
        ['tcp', 53, 53, '192.168.1.10/32'],
        ['udp', 53, 53, '192.168.1.10/32'],
      ].sort(),
    );
    expect(sg.SecurityGroupIngress).toBeUndefined();
    expect(
      resourcesOf(t, 'AWS::EC2::SecurityGroupIngress').filter(([, p]) => JSON.stringify(p).includes(sgId)),
    ).toEqual([]);
  });

  it('forwards each on-premises domain to the servers and associates the rule with the VPC', () => {
    const endpointRef = {
      'Fn::GetAtt': [logicalIdOf(t, 'AWS::Route53Resolver::ResolverEndpoint'), 'ResolverEndpointId'],
    };
    const rules = resourcesOf(t, 'AWS::Route53Resolver::ResolverRule');
    expect(rules.map(([, p]) => p.DomainName).sort()).toEqual(['corp.example.com', 'db.example.net']);
    for (const [ruleId, p] of rules) {
      expect(p).toMatchObject({
        RuleType: 'FORWARD',
        ResolverEndpointId: endpointRef,
        TargetIps: [
          { Ip: '192.168.0.10', Port: '53' },
          { Ip: '192.168.1.10', Port: '53' },
        ],
      });
      t.hasResourceProperties('AWS::Route53Resolver::ResolverRuleAssociation', {
        ResolverRuleId: { 'Fn::GetAtt': [ruleId, 'ResolverRuleId'] },
        VPCId: { Ref: Match.stringLikeRegexp('^Vpc') },
      });
    }
  });

  it('creates no resolver when on-premises hosts are addressed by IP', () => {
    const noDns = build({ kind: 'transit-gateway', transitGatewayId: 'tgw-0123456789abcdef0' }, null).template;
    noDns.resourceCountIs('AWS::Route53Resolver::ResolverEndpoint', 0);
    noDns.resourceCountIs('AWS::Route53Resolver::ResolverRule', 0);
  });
});
