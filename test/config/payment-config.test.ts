import { EnvName } from '../../lib/config/environment-config';
import { ENVIRONMENTS } from '../../lib/config/environments';
import { ConfigError, loadEnvironmentConfig, validateEnvironmentConfig } from '../../lib/config/load';
import { isPostgresSystemSchema, PaymentConfig, paymentConfigProblems } from '../../lib/config/payment-config';

const base = (env: EnvName = 'dev'): PaymentConfig => ENVIRONMENTS[env].payment;
const problems = (edit: (c: PaymentConfig) => PaymentConfig, env: EnvName = 'dev') =>
  paymentConfigProblems(env, edit(base(env)));

describe('payment config', () => {
  it.each(['dev', 'staging', 'prod'] as const)('the committed %s section is valid', (env) => {
    expect(paymentConfigProblems(env, base(env))).toEqual([]);
  });

  it('defaults to us-east-1 with the replica in us-west-2, db.r6g.large / 100 GB / Multi-AZ in prod', () => {
    const prod = base('prod');
    expect([prod.region, prod.replicaRegion]).toEqual(['us-east-1', 'us-west-2']);
    expect(prod.database).toMatchObject({ instanceClass: 'db.r6g.large', allocatedStorageGb: 100, multiAz: true });
    expect(prod.removal).toBe('retain');
    expect(base('dev').database.instanceClass).toMatch(/^db\.t4g\./);
    expect(base('dev').removal).toBe('destroy');
    expect(base('staging').removal).toBe('destroy');
  });

  it('is validated at start-up with the environment, and the error names the field', () => {
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    const bad = { ...config, payment: { ...config.payment, replicaRegion: 'us-east-1' } };
    expect(() => validateEnvironmentConfig(bad)).toThrow(ConfigError);
    expect(() => validateEnvironmentConfig(bad)).toThrow(/dev\.payment\.replicaRegion/);
  });

  it('rejects a replica region equal to the stage region', () => {
    expect(problems((c) => ({ ...c, replicaRegion: c.region }))).toEqual([
      expect.stringMatching(/^dev\.payment\.replicaRegion: expected a region other than us-east-1/),
    ]);
  });

  it.each(['pg_catalog', 'information_schema', 'pg_toast', 'pg_temp_1', 'rdsadmin'])(
    'rejects the system schema %s in the DMS allowlist',
    (name) => {
      expect(problems((c) => ({ ...c, dms: { ...c.dms, schemas: [{ name }] } }))).toEqual([
        expect.stringMatching(/^dev\.payment\.dms\.schemas\[0\]\.name: expected a payment schema/),
      ]);
    },
  );

  it('rejects wildcard schemas and an empty allowlist', () => {
    expect(problems((c) => ({ ...c, dms: { ...c.dms, schemas: [{ name: '%' }] } }))[0]).toMatch(
      /dms\.schemas\[0\]\.name: expected a literal lowercase schema name/,
    );
    expect(problems((c) => ({ ...c, dms: { ...c.dms, schemas: [] } }))[0]).toMatch(
      /dms\.schemas: expected at least one/,
    );
    expect(isPostgresSystemSchema('payments')).toBe(false);
  });

  it('validates the ECR repository and tag, and refuses latest', () => {
    const service = (s: Partial<PaymentConfig['service']>) => (c: PaymentConfig) => ({
      ...c,
      service: { ...c.service, ...s },
    });
    expect(problems(service({ ecrRepositoryName: 'Payment Service' }))[0]).toMatch(/service\.ecrRepositoryName/);
    expect(problems(service({ ecrRepositoryName: 'team/payment-service' }))).toEqual([]);
    expect(problems(service({ imageTag: 'latest' }))[0]).toMatch(
      /service\.imageTag: expected an immutable release tag/,
    );
    expect(problems(service({ imageTag: '-bad' }))[0]).toMatch(/service\.imageTag: expected a Docker image tag/);
  });

  it('checks Fargate sizes, counts, port, health path and the certificate region', () => {
    const service = (s: Partial<PaymentConfig['service']>) => (c: PaymentConfig) => ({
      ...c,
      service: { ...c.service, ...s },
    });
    expect(problems(service({ cpu: 300 }))[0]).toMatch(/service\.cpu/);
    expect(problems(service({ cpu: 256, memoryMiB: 4096 }))[0]).toMatch(
      /service\.memoryMiB: expected one of 512, 1024, 2048/,
    );
    expect(problems(service({ minCount: 3, maxCount: 2, desiredCount: 3 }))[0]).toMatch(/service\.maxCount/);
    expect(problems(service({ containerPort: 80 }))[0]).toMatch(/service\.containerPort/);
    expect(problems(service({ healthCheckPath: 'health' }))[0]).toMatch(/service\.healthCheckPath/);
    expect(problems(service({ certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' }))[0]).toMatch(
      /service\.certificateArn: expected a certificate in us-east-1/,
    );
    expect(problems(service({ certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' }))).toEqual([]);
  });

  it('keeps prod retained and Multi-AZ, backups of at least 7 days', () => {
    expect(problems((c) => ({ ...c, removal: 'destroy' }), 'prod')[0]).toMatch(
      /prod\.payment\.removal: expected "retain" in prod/,
    );
    expect(problems((c) => ({ ...c, database: { ...c.database, multiAz: false } }), 'prod')[0]).toMatch(
      /prod\.payment\.database\.multiAz/,
    );
    expect(problems((c) => ({ ...c, database: { ...c.database, backupRetentionDays: 1 } }))[0]).toMatch(
      /database\.backupRetentionDays: expected an integer from 7 to 35/,
    );
  });

  it('reserves replication slots for a forward and a reverse task', () => {
    expect(problems((c) => ({ ...c, dms: { ...c.dms, replicationSlots: 1 } }))[0]).toMatch(/dms\.replicationSlots/);
  });

  it('needs a record name inside the hosted zone', () => {
    expect(problems((c) => ({ ...c, dns: { ...c.dns, recordName: 'api.other.example.com' } }))[0]).toMatch(
      /dns\.recordName: expected a name inside/,
    );
    expect(problems((c) => ({ ...c, dns: { ...c.dns, hostedZoneId: 'abc' } }))[0]).toMatch(/dns\.hostedZoneId/);
  });
});
