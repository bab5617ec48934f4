import { buildTableMappings, buildTaskSettings } from '../../lib/dms/task-definition';

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
