import { loadEnvironmentConfig, validateEnvironmentConfig } from '../../lib/config/load';
import { resourcesOf, synthStage } from '../support/stage-fixture';

describe('prod hardening', () => {
  const dev = synthStage('dev');
  const prod = synthStage('prod');

  it('protects every prod stack from termination and leaves dev stacks deletable', () => {
    // The stacks' entries in the cloud assembly, which is what `cdk deploy` reads the setting from.
    const stacks = (s: typeof dev) => Object.entries(s.stacks);
    for (const [id, stack] of stacks(prod)) expect([id, stack.terminationProtection]).toEqual([id, true]);
    for (const [id, stack] of stacks(dev)) expect([id, stack.terminationProtection]).toEqual([id, false]);
  });

  it('writes termination protection into the cloud assembly for staging', () => {
    const staging = synthStage('staging');
    for (const artifact of Object.values(staging.stacks))
      expect([artifact.stackName, artifact.terminationProtection]).toEqual([artifact.stackName, true]);
  });

  it('gives the prod audit domain three dedicated master nodes', () => {
    const [[, domain]] = resourcesOf(prod.templates.Logging!, 'AWS::OpenSearchService::Domain') as [[string, any]];
    expect(domain.ClusterConfig).toMatchObject({
      DedicatedMasterEnabled: true,
      DedicatedMasterCount: 3,
      DedicatedMasterType: 'm6g.large.search',
    });
  });

  it('runs prod DMS on a non-burstable class', () => {
    const [[, instance]] = resourcesOf(prod.templates.Dms!, 'AWS::DMS::ReplicationInstance') as [[string, any]];
    expect(instance.ReplicationInstanceClass).toBe('dms.r6i.large');
    expect(instance.MultiAZ).toBe(true);
  });

  it('refuses a burstable DMS class or no dedicated masters in prod', () => {
    const c = loadEnvironmentConfig('prod', () => undefined, {});
    expect(() =>
      validateEnvironmentConfig({
        ...c,
        dms: { ...c.dms, instanceClass: 'dms.t3.large' },
        openSearch: { ...c.openSearch, masterNodes: 0 },
      }),
    ).toThrow(
      /prod\.dms\.instanceClass: expected a non-burstable class in prod[\s\S]*prod\.openSearch\.masterNodes: expected 3 or 5/,
    );
  });
});
