import {
  ConfigError,
  assertDeployable,
  loadEnvironmentConfig,
  validateEnvironmentConfig,
  validateSandboxName,
} from '../../lib/config/load';
import { ENVIRONMENTS } from '../../lib/config/environments';
import { EnvironmentConfig } from '../../lib/config/environment-config';

const noContext = () => undefined;

function problemsOf(mutate: (c: EnvironmentConfig) => EnvironmentConfig): readonly string[] {
  const base: EnvironmentConfig = { ...ENVIRONMENTS.dev };
  try {
    validateEnvironmentConfig(mutate(base));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('loadEnvironmentConfig', () => {
  it('loads all three environments without an account (offline synth)', () => {
    for (const name of ['dev', 'staging', 'prod']) {
      const c = loadEnvironmentConfig(name, noContext, {});
      expect(c.envName).toBe(name);
      expect(c.account).toBeUndefined();
      expect(c.region).toBe('us-west-2');
    }
  });

  it('takes the account from context first, then from <ENV>_ACCOUNT', () => {
    expect(loadEnvironmentConfig('prod', (k) => (k === 'prodAccount' ? '111122223333' : undefined), {}).account).toBe(
      '111122223333',
    );
    expect(loadEnvironmentConfig('prod', noContext, { PROD_ACCOUNT: '444455556666' }).account).toBe('444455556666');
  });

  it('rejects an unknown environment with the list of valid ones', () => {
    expect(() => loadEnvironmentConfig('qa', noContext, {})).toThrow(
      /environment "qa" is unknown; expected one of dev, staging, prod/,
    );
  });

  it('names the bad field and what is expected', () => {
    expect(() => loadEnvironmentConfig('dev', (k) => (k === 'devAccount' ? '12345' : undefined), {})).toThrow(
      /dev\.account: expected a 12-digit AWS account id, got "12345"/,
    );
  });

  it('keeps prod and staging stateful resources retained', () => {
    expect(loadEnvironmentConfig('prod', noContext, {}).removal).toBe('retain');
    expect(loadEnvironmentConfig('staging', noContext, {}).removal).toBe('retain');
    expect(problemsOf((c) => ({ ...c, envName: 'prod', removal: 'destroy' }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/prod\.removal: expected "retain" outside dev/)]),
    );
  });

  it('sizes dev for cost and prod for availability', () => {
    const dev = loadEnvironmentConfig('dev', noContext, {});
    const prod = loadEnvironmentConfig('prod', noContext, {});
    expect(dev.network.natGateways).toBe(1);
    expect(dev.network.natProvider).toEqual({ kind: 'instance', instanceType: 't4g.nano' });
    expect(prod.network.natProvider).toBeUndefined();
    expect(loadEnvironmentConfig('staging', noContext, {}).network.natProvider).toBeUndefined();
    expect(dev.database.sizing).toEqual({ kind: 'serverless', minCapacity: 0, maxCapacity: 2 });
    expect(dev.network).toMatchObject({ interfaceEndpoints: ['SecretsManager'], interfaceEndpointAzs: 1 });
    expect(dev.dms.instanceClass).toBe('dms.t3.small');
    expect(dev.dataSync.agentPowerSchedule).toBeDefined();
    expect(prod.network.interfaceEndpoints).toBeUndefined();
    expect(prod.dataSync.agentPowerSchedule).toBeUndefined();
    expect(dev.openSearch).toMatchObject({ dataNodes: 1, dataNodeInstanceType: 't3.small.search', volumeSizeGb: 20 });
    expect(prod.network.natGateways).toBe(2);
    expect(prod.database.sizing).toEqual({ kind: 'provisioned', instanceType: 'r6g.large' });
    expect(prod.openSearch).toMatchObject({
      dataNodes: 2,
      dataNodeInstanceType: 'r6g.large.search',
      volumeSizeGb: 100,
    });
    expect(prod.dms.multiAz).toBe(true);
  });
});

describe('validateEnvironmentConfig', () => {
  it('accepts the committed environments', () => {
    expect(problemsOf((c) => c)).toEqual([]);
  });

  it('takes the DataSync activation attempt as a whole number, 0 or more', () => {
    const withAttempt = (n: number) => problemsOf((c) => ({ ...c, dataSync: { ...c.dataSync, activationAttempt: n } }));
    expect(withAttempt(3)).toEqual([]);
    expect(withAttempt(-1)).toEqual([
      expect.stringMatching(/^dev\.dataSync\.activationAttempt: expected a whole number, 0 or more/),
    ]);
    expect(withAttempt(1.5)).toHaveLength(1);
  });

  it('refuses MySQL system schemas and wildcards in the DMS allowlist', () => {
    const problems = problemsOf((c) => ({
      ...c,
      dms: { ...c.dms, schemas: [{ name: 'mysql' }, { name: '%' }, { name: 'Sys' }] },
    }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/dms\.schemas\[0\]\.name: expected a user schema/),
        expect.stringMatching(/dms\.schemas\[1\]\.name: expected a literal schema name/),
        expect.stringMatching(/dms\.schemas\[2\]\.name: expected a user schema/),
      ]),
    );
  });

  it('refuses an empty allowlist', () => {
    expect(problemsOf((c) => ({ ...c, dms: { ...c.dms, schemas: [] } }))).toEqual([
      expect.stringMatching(/dms\.schemas: expected at least one schema/),
    ]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf((c) => ({
      ...c,
      region: 'mars-1',
      network: { ...c.network, natGateways: 0 },
      openSearch: { ...c.openSearch, engineVersion: '2.11' },
    }));
    expect(problems).toHaveLength(3);
  });

  it('checks Serverless v2 capacity steps', () => {
    expect(
      problemsOf((c) => ({
        ...c,
        database: { ...c.database, sizing: { kind: 'serverless', minCapacity: 0.3, maxCapacity: 2 } },
      })),
    ).toEqual([expect.stringMatching(/database\.sizing: expected Serverless v2 capacities/)]);
    // 0 (auto-pause) is allowed; a maximum under 1 ACU is not.
    const serverless = (minCapacity: number, maxCapacity: number) =>
      problemsOf((c) => ({
        ...c,
        database: { ...c.database, sizing: { kind: 'serverless', minCapacity, maxCapacity } },
      }));
    expect(serverless(0, 2)).toEqual([]);
    expect(serverless(0, 0.5)).toEqual([expect.stringMatching(/max >= 1/)]);
  });

  it('keeps the Secrets Manager endpoint and checks the endpoint AZ count', () => {
    expect(
      problemsOf((c) => ({ ...c, network: { ...c.network, interfaceEndpoints: ['Logs'], interfaceEndpointAzs: 3 } })),
    ).toEqual([
      expect.stringMatching(/network\.interfaceEndpoints: expected a list with SecretsManager/),
      expect.stringMatching(/network\.interfaceEndpointAzs: expected an integer from 1 to 2/),
    ]);
  });

  it('accepts a NAT instance in dev only, with an instance type', () => {
    const nat = (natProvider: unknown, envName: EnvironmentConfig['envName'] = 'dev') =>
      problemsOf((c) => ({ ...c, envName, network: { ...c.network, natProvider } as EnvironmentConfig['network'] }));
    expect(nat({ kind: 'instance', instanceType: 't4g.micro' })).toEqual([]);
    expect(nat({ kind: 'gateway' })).toEqual([]);
    expect(nat({ kind: 'instance', instanceType: 'nano' })).toEqual([
      expect.stringMatching(/dev\.network\.natProvider\.instanceType: expected an EC2 instance type/),
    ]);
    expect(nat({ kind: 'box' })).toEqual([
      expect.stringMatching(/network\.natProvider: expected \{ kind: 'gateway' \}/),
    ]);
    expect(nat({ kind: 'instance', instanceType: 't4g.nano' }, 'staging')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/staging\.network\.natProvider: expected \{ kind: 'gateway' \} outside dev/),
      ]),
    );
    expect(nat({ kind: 'gateway' }, 'prod').filter((p) => p.includes('natProvider'))).toEqual([]);
  });

  it('stops the DataSync agent only around a transfer schedule, with cron expressions', () => {
    const power = { startExpression: 'cron(30 1 ? * MON *)', stopExpression: 'rate(1 day)' };
    expect(
      problemsOf((c) => ({
        ...c,
        dataSync: { ...c.dataSync, scheduleExpression: undefined, agentPowerSchedule: power },
      })),
    ).toEqual([
      expect.stringMatching(/dataSync\.agentPowerSchedule\.stopExpression: expected cron/),
      expect.stringMatching(/dataSync\.scheduleExpression: expected a transfer schedule/),
    ]);
  });
});

describe('sandbox and deploy guards', () => {
  it('accepts short lowercase sandbox names only', () => {
    expect(validateSandboxName('alice')).toBe('alice');
    expect(() => validateSandboxName('Alice_1')).toThrow(/sandbox: expected 2-15 lowercase letters/);
  });

  it('refuses to deploy without an account', () => {
    const c = loadEnvironmentConfig('prod', noContext, {});
    expect(() => assertDeployable(c)).toThrow(/set -c prodAccount=<id> or PROD_ACCOUNT/);
    expect(assertDeployable({ ...c, account: '111122223333' })).toBe('111122223333');
  });
});
