import { loadEnvironmentConfig, validateEnvironmentConfig } from '../../lib/config/load';
import { resourcesOf, synthStage } from '../support/stage-fixture';

describe('prod hardening', () => {
  const dev = synthStage('dev');
  const prod = synthStage('prod');

  it('protects every prod stack from termination and leaves dev stacks deletable', () => {
    const stacks = (s: typeof dev) => Object.keys(s.templates).map((id) => s.stage.node.findChild(id));
    for (const stack of stacks(prod))
      expect([stack.node.id, (stack as any).terminationProtection]).toEqual([stack.node.id, true]);
    for (const stack of stacks(dev))
      expect([stack.node.id, (stack as any).terminationProtection]).toEqual([stack.node.id, false]);
  });

  it('writes termination protection into the cloud assembly for staging', () => {
    const staging = synthStage('staging');
    const assembly = staging.stage.synth();
    for (const artifact of assembly.stacks)
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
