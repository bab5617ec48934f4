import { ENV_NAMES } from '../../lib/config/environment-config';
import { loadEnvironmentConfig, validateEnvironmentConfig } from '../../lib/config/load';
import { buildTableMappings, buildTaskSettings } from '../../lib/dms/task-definition';
import { synthStage } from '../support/stage-fixture';

describe('buildTableMappings', () => {
  const mappings = buildTableMappings([{ name: 'inventory' }, { name: 'catalog', tables: ['products', 'files_%'] }]);
  const includes = mappings.rules.filter((r) => r['rule-action'] === 'include');
  const excludes = mappings.rules.filter((r) => r['rule-action'] === 'exclude');

  it('includes only the named schemas and tables', () => {
    expect(includes.map((r) => r['object-locator'])).toEqual([
      { 'schema-name': 'inventory', 'table-name': '%' },
      { 'schema-name': 'catalog', 'table-name': 'products' },
      { 'schema-name': 'catalog', 'table-name': 'files_%' },
    ]);
    expect(includes.every((r) => r['object-locator']['schema-name'] !== '%')).toBe(true);
  });

  it('excludes every MySQL system schema explicitly', () => {
    expect(excludes.map((r) => r['object-locator']['schema-name']).sort()).toEqual(
      ['information_schema', 'mysql', 'performance_schema', 'sys'].sort(),
    );
  });

  it('numbers rules uniquely, as DMS requires', () => {
    const ids = mappings.rules.map((r) => r['rule-id']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('serialises to the JSON DMS reads', () => {
    const parsed = JSON.parse(JSON.stringify(mappings));
    expect(parsed.rules[0]).toMatchObject({ 'rule-type': 'selection', 'rule-action': 'include' });
  });

  it('refuses system schemas and wildcards even if config validation was bypassed', () => {
    expect(() => buildTableMappings([{ name: 'mysql' }])).toThrow(/system schema/);
    expect(() => buildTableMappings([{ name: '%' }])).toThrow(/literal name/);
    expect(() => buildTableMappings([])).toThrow(/at least one schema/);
  });
});

describe('buildTaskSettings', () => {
  it('turns on logging and data validation', () => {
    const s = buildTaskSettings() as {
      Logging: { EnableLogging: boolean };
      ValidationSettings: { EnableValidation: boolean };
    };
    expect(s.Logging.EnableLogging).toBe(true);
    expect(s.ValidationSettings.EnableValidation).toBe(true);
  });
});

describe('target table preparation', () => {
  const prep = (s: Record<string, unknown>) =>
    (s.FullLoadSettings as { TargetTablePrepMode: string }).TargetTablePrepMode;

  it('leaves a target prepared with native tools alone by default', () => {
    expect(prep(buildTaskSettings())).toBe('DO_NOTHING');
  });

  it.each(['TRUNCATE_BEFORE_LOAD', 'DROP_AND_CREATE'] as const)('takes %s from config', (mode) => {
    expect(prep(buildTaskSettings(mode))).toBe(mode);
  });

  it('is DO_NOTHING in every committed environment and reaches the task settings', () => {
    for (const env of ENV_NAMES) {
      const config = loadEnvironmentConfig(env, () => undefined, {});
      expect(config.dms.targetTablePrepMode).toBe('DO_NOTHING');
    }
    const { templates } = synthStage('dev');
    const tasks = Object.values(templates.Dms!.findResources('Custom::DmsReplicationTask'));
    expect(tasks).toHaveLength(1);
    expect(JSON.stringify(tasks[0])).toContain('\\"TargetTablePrepMode\\":\\"DO_NOTHING\\"');
  });

  it('is validated', () => {
    const c = loadEnvironmentConfig('dev', () => undefined, {});
    expect(() =>
      validateEnvironmentConfig({ ...c, dms: { ...c.dms, targetTablePrepMode: 'DROP' as 'DO_NOTHING' } }),
    ).toThrow(/dms\.targetTablePrepMode: expected DO_NOTHING \| TRUNCATE_BEFORE_LOAD \| DROP_AND_CREATE, got "DROP"/);
  });
});
