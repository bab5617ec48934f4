import { EnvironmentConfig, OnPremisesConnectivity } from '../../lib/config/environment-config';
import { ENVIRONMENTS } from '../../lib/config/environments';
import { ConfigError, validateEnvironmentConfig } from '../../lib/config/load';

function problemsOf(mutate: (c: EnvironmentConfig) => EnvironmentConfig): readonly string[] {
  try {
    validateEnvironmentConfig(mutate({ ...ENVIRONMENTS.dev }));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const withConnectivity = (connectivity: unknown) => (c: EnvironmentConfig) => ({
  ...c,
  network: { ...c.network, onPremisesConnectivity: connectivity as OnPremisesConnectivity },
});

describe('on-premises connectivity in the config', () => {
  it('is present, as an example VPN to a documentation address, in every committed environment', () => {
    for (const env of Object.values(ENVIRONMENTS)) {
      expect(env.network.onPremisesConnectivity).toMatchObject({
        kind: 'site-to-site-vpn',
        customerGatewayIp: expect.stringMatching(/^203\.0\.113\./),
      });
    }
  });

  it('forwards on-premises names in staging and prod; dev names its sources by address and has no resolver', () => {
    for (const env of [ENVIRONMENTS.staging, ENVIRONMENTS.prod]) {
      expect(env.network.onPremisesDns?.serverIps.length).toBeGreaterThan(0);
    }
    expect(ENVIRONMENTS.dev.network.onPremisesDns).toBeUndefined();
    expect(ENVIRONMENTS.dev.dms.source.serverName).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(ENVIRONMENTS.dev.dataSync.source.serverHostname).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('names the missing setting when connectivity is absent', () => {
    expect(problemsOf(withConnectivity(undefined))).toEqual([
      expect.stringMatching(
        /^dev\.network\.onPremisesConnectivity: expected how the VPC reaches the on-premises network/,
      ),
    ]);
  });

  it('fails the synth of an app whose environment lacks it', () => {
    jest.isolateModules(() => {
      jest.doMock('../../lib/config/environments', () => {
        const network: Record<string, unknown> = { ...ENVIRONMENTS.dev.network };
        delete network.onPremisesConnectivity;
        return { ENVIRONMENTS: { ...ENVIRONMENTS, dev: { ...ENVIRONMENTS.dev, network } } };
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { buildApp } = require('../../lib/app-builder') as typeof import('../../lib/app-builder');
      expect(() => buildApp({ context: { sandbox: 'alice', cfnGuard: 'false' } })).toThrow(
        /dev\.network\.onPremisesConnectivity: expected how the VPC reaches the on-premises network/,
      );
    });
  });

  it.each([
    ['a private address', '10.1.2.3'],
    ['not an address', 'vpn.example.com'],
    ['an impossible address', '203.0.113.300'],
  ])('refuses %s as the customer gateway', (_, ip) => {
    expect(
      problemsOf(withConnectivity({ kind: 'site-to-site-vpn', customerGatewayIp: ip, routing: { type: 'static' } })),
    ).toEqual([
      expect.stringMatching(/customerGatewayIp: expected the public IPv4 address of the on-premises VPN device/),
    ]);
  });

  it('checks the BGP and Amazon-side ASNs', () => {
    const vpn = (routing: unknown, amazonSideAsn?: number) =>
      problemsOf(
        withConnectivity({
          kind: 'site-to-site-vpn',
          customerGatewayIp: '198.18.0.1',
          routing,
          ...(amazonSideAsn ? { amazonSideAsn } : {}),
        }),
      );
    expect(vpn({ type: 'bgp', customerGatewayAsn: 65010 })).toEqual([]);
    expect(vpn({ type: 'bgp', customerGatewayAsn: 0 })).toEqual([
      expect.stringMatching(/routing\.customerGatewayAsn: expected a BGP ASN/),
    ]);
    expect(vpn({ type: 'bgp', customerGatewayAsn: 64512 })).toEqual([
      expect.stringMatching(/routing\.customerGatewayAsn: expected an ASN different from the Amazon side/),
    ]);
    expect(vpn({ type: 'bgp' })).toEqual([expect.stringMatching(/routing\.customerGatewayAsn/)]);
    expect(vpn({ type: 'ospf' })).toEqual([expect.stringMatching(/routing: expected \{ type: 'bgp'/)]);
    expect(vpn({ type: 'static' }, 7224)).toEqual([expect.stringMatching(/amazonSideAsn: expected a private ASN/)]);
  });

  it('checks the Transit Gateway id', () => {
    expect(
      problemsOf(withConnectivity({ kind: 'transit-gateway', transitGatewayId: 'tgw-0123456789abcdef0' })),
    ).toEqual([]);
    expect(problemsOf(withConnectivity({ kind: 'transit-gateway', transitGatewayId: 'my-tgw' }))).toEqual([
      expect.stringMatching(/transitGatewayId: expected a Transit Gateway id \(tgw-\.\.\.\), got "my-tgw"/),
    ]);
  });

  it('wants an explicit route target when connectivity is already provided', () => {
    expect(problemsOf(withConnectivity({ kind: 'already-provided' }))).toEqual([
      expect.stringMatching(
        /routeTarget\.type: expected the route target, named explicitly: transit-gateway \| vpn-gateway \| vpc-peering-connection \| network-interface/,
      ),
    ]);
    expect(
      problemsOf(
        withConnectivity({
          kind: 'already-provided',
          routeTarget: { type: 'vpn-gateway', id: 'tgw-0123456789abcdef0' },
        }),
      ),
    ).toEqual([expect.stringMatching(/routeTarget\.id: expected an id matching \^vgw-/)]);
    expect(
      problemsOf(
        withConnectivity({
          kind: 'already-provided',
          routeTarget: { type: 'network-interface', id: 'eni-0123456789abcdef0' },
        }),
      ),
    ).toEqual([]);
  });

  it('refuses an unknown kind', () => {
    expect(problemsOf(withConnectivity({ kind: 'direct-connect' }))).toEqual([
      expect.stringMatching(/onPremisesConnectivity\.kind: expected \{ kind: 'site-to-site-vpn'/),
    ]);
  });

  it('refuses an on-premises CIDR that overlaps the VPC', () => {
    expect(problemsOf((c) => ({ ...c, network: { ...c.network, onPremisesCidr: '10.0.0.0/8' } }))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /network\.onPremisesCidr: expected a range that does not overlap the VPC \(10\.10\.0\.0\/16\)/,
        ),
      ]),
    );
  });

  it('wants the DNS servers inside the on-premises CIDR', () => {
    expect(
      problemsOf((c) => ({
        ...c,
        network: { ...c.network, onPremisesDns: { domains: ['onprem.example.internal'], serverIps: ['8.8.8.8'] } },
      })),
    ).toEqual([expect.stringMatching(/onPremisesDns\.serverIps: expected IPv4 addresses inside onPremisesCidr/)]);
  });

  it('wants the source hosts resolvable through a forwarded domain or given as on-premises addresses', () => {
    const problems = problemsOf((c) => ({
      ...c,
      network: { ...c.network, onPremisesDns: { domains: ['corp.example.com'], serverIps: ['192.168.0.10'] } },
      dms: { ...c.dms, source: { ...c.dms.source, serverName: 'mysql.onprem.example.internal' } },
      dataSync: { ...c.dataSync, source: { ...c.dataSync.source, serverHostname: 'nfs.onprem.example.internal' } },
    }));
    expect(problems).toEqual([
      expect.stringMatching(/dms\.source\.serverName: expected a host under corp\.example\.com/),
      expect.stringMatching(/dataSync\.source\.serverHostname: expected a host under corp\.example\.com/),
    ]);
    const byIp = problemsOf((c) => {
      const network = { ...c.network };
      delete network.onPremisesDns;
      return {
        ...c,
        network,
        dms: { ...c.dms, source: { ...c.dms.source, serverName: '192.168.4.20' } },
        dataSync: { ...c.dataSync, source: { ...c.dataSync.source, serverHostname: '192.168.4.21' } },
      };
    });
    expect(byIp).toEqual([]);
  });
});
