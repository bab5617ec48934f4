import { buildPaymentTableMappings, buildPaymentTaskSettings } from '../../lib/dms/payment-task-definition';
import { postgresParameters } from '../../lib/constructs/payment/payment-environment';

describe('payment DMS task definition', () => {
  it('includes only the allowlisted schemas and tables, then excludes the PostgreSQL catalogs', () => {
    const { rules } = buildPaymentTableMappings([{ name: 'payments' }, { name: 'ledger', tables: ['entries'] }]);
    expect(
      rules.map((r) => [r['rule-action'], r['object-locator']['schema-name'], r['object-locator']['table-name']]),
    ).toEqual([
      ['include', 'payments', '%'],
      ['include', 'ledger', 'entries'],
      ['exclude', 'pg_%', '%'],
      ['exclude', 'information_schema', '%'],
      ['exclude', 'rdsadmin', '%'],
    ]);
    expect(new Set(rules.map((r) => r['rule-id'])).size).toBe(rules.length);
    expect(rules.some((r) => r['rule-action'] === 'include' && r['object-locator']['schema-name'] === '%')).toBe(false);
  });

  it('refuses wildcard and system schemas and an empty allowlist', () => {
    expect(() => buildPaymentTableMappings([])).toThrow(/at least one schema/);
    expect(() => buildPaymentTableMappings([{ name: 'pay%' }])).toThrow(/literal name/);
    expect(() => buildPaymentTableMappings([{ name: 'pg_catalog' }])).toThrow(/system schema/);
  });

  it('leaves the target to native tools (DO_NOTHING) with validation and logging on', () => {
    const s = buildPaymentTaskSettings() as any;
    expect(s.FullLoadSettings.TargetTablePrepMode).toBe('DO_NOTHING');
    expect(s.ValidationSettings.EnableValidation).toBe(true);
    expect(s.Logging.EnableLogging).toBe(true);
    // Serialised with JSON.stringify, round-trips unchanged.
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('turns on logical replication on both sides (forward task from the source, reverse task from the target), with a sender per slot', () => {
    const parameters = postgresParameters(10);
    expect(parameters).toMatchObject({
      'rds.logical_replication': '1',
      max_replication_slots: '10',
      'rds.force_ssl': '1',
    });
    expect(Number(parameters.max_wal_senders)).toBeGreaterThanOrEqual(10);
    expect(Number(parameters.wal_sender_timeout)).toBeGreaterThanOrEqual(10000);
  });
});
