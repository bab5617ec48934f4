import type { EnvName, StatefulRemoval } from './environment-config';

/**
 * Typed configuration of the payment-service cutover (PaymentCutoverStage) of one environment.
 * It is its own section of `EnvironmentConfig` (`config.payment`) because the payment stage runs in
 * another region, with another VPC and another removal policy than the migration stage.
 * `paymentConfigProblems` validates it at start-up; every problem names the field.
 */
export interface PaymentConfig {
  /** Region of the stage (databases, services, DMS, source log bucket). @default 'us-east-1' */
  readonly region: string;
  /** Region of the replica log bucket; must differ from `region`. @default 'us-west-2' */
  readonly replicaRegion: string;
  readonly network: PaymentNetworkConfig;
  readonly database: PaymentDatabaseConfig;
  readonly service: PaymentServiceConfig;
  readonly dms: PaymentDmsConfig;
  readonly logs: PaymentLogConfig;
  /** The weighted records' zone and name; the routing construct (built elsewhere) uses these. */
  readonly dns: PaymentDnsConfig;
  /**
   * `destroy` makes every stateful resource of the stage deletable (the seeds want non-prod payment
   * environments fully destroyable); `retain` keeps them and snapshots the databases. Prod must retain.
   */
  readonly removal: StatefulRemoval;
  /** `CostCenter` tag on every resource of the stage. */
  readonly costCenter: string;
  /** `MigrationPhase` tag, e.g. `replication`, `cutover`, `decommission`. */
  readonly migrationPhase: string;
  /** Days to keep the stage's CloudWatch log groups. */
  readonly logRetentionDays: number;
}

export interface PaymentNetworkConfig {
  /** IPv4 CIDR of the payment VPC; must not overlap the migration VPC if they are ever peered. */
  readonly cidr: string;
  /** NAT gateways (1 in dev for cost; one per AZ where an AZ outage must not cut egress). */
  readonly natGateways: number;
}

export interface PaymentDatabaseConfig {
  /** RDS instance class with the `db.` prefix, e.g. `db.r6g.large` (docs/adr/0010). */
  readonly instanceClass: string;
  /** Allocated gp3 storage in GiB. */
  readonly allocatedStorageGb: number;
  /** Ceiling for storage autoscaling in GiB; at least `allocatedStorageGb`. */
  readonly maxAllocatedStorageGb: number;
  readonly multiAz: boolean;
  /** Days of automated backups (point-in-time recovery window); 7 to 35 (AWS Control Tower CT.RDS.PR.8). */
  readonly backupRetentionDays: number;
  /** Days between automatic rotations of the master and DMS credentials. */
  readonly rotationDays: number;
  /** Database created on both instances and read by DMS. */
  readonly databaseName: string;
}

export interface PaymentServiceConfig {
  /** ECR repository of the payment service image (in the stage's account and region). */
  readonly ecrRepositoryName: string;
  /** Image tag; an immutable release tag, never `latest`. */
  readonly imageTag: string;
  /** Fargate task CPU units (256, 512, 1024, 2048, 4096). */
  readonly cpu: number;
  /** Fargate task memory in MiB, within the range Fargate allows for `cpu`. */
  readonly memoryMiB: number;
  readonly desiredCount: number;
  readonly minCount: number;
  readonly maxCount: number;
  /** Path the ALB health check (and the smoke test) requests, e.g. `/health`. */
  readonly healthCheckPath: string;
  /** Port the container listens on. */
  readonly containerPort: number;
  /** ACM certificate (same region) for an HTTPS listener; unset means HTTP only (see docs/payment-cutover.md). */
  readonly certificateArn?: string;
  /** Target CPU and memory utilisation (percent) for autoscaling. @default 60 */
  readonly targetUtilizationPercent: number;
}

/** One PostgreSQL schema DMS copies; tables default to every table of that schema only. */
export interface PaymentSchema {
  readonly name: string;
  /** Table names or DMS `%` wildcards within this schema. @default ['%'] */
  readonly tables?: readonly string[];
}

export interface PaymentDmsConfig {
  /** Replication instance class. */
  readonly instanceClass: string;
  readonly allocatedStorageGb: number;
  readonly multiAz: boolean;
  /** Allowlist of payment schemas and tables; PostgreSQL system schemas are rejected. */
  readonly schemas: readonly PaymentSchema[];
  /**
   * Replication slots and WAL senders reserved on the source for DMS: the forward task, a later
   * reverse (failback) task, and headroom for a task being replaced. @default 10
   */
  readonly replicationSlots: number;
}

export interface PaymentLogConfig {
  /** Days before transaction logs move to Glacier Instant Retrieval. */
  readonly transitionToGlacierDays: number;
  /** Days a noncurrent log version is kept. */
  readonly noncurrentVersionExpirationDays: number;
  /** Days to keep S3 and ALB access logs. */
  readonly accessLogExpirationDays: number;
}

export interface PaymentDnsConfig {
  /** Route 53 hosted zone id (`Z...`) holding the service record. */
  readonly hostedZoneId: string;
  /** Zone name, e.g. `payments.example.com`. */
  readonly hostedZoneName: string;
  /** Full record name inside the zone, e.g. `api.payments.example.com`. */
  readonly recordName: string;
}

/** Schemas DMS must never copy from PostgreSQL: catalogs, statistics, TOAST, extensions' internals. */
export const POSTGRES_SYSTEM_SCHEMAS: readonly string[] = ['pg_catalog', 'information_schema', 'pg_toast'];

/** True for a PostgreSQL system schema: the named ones and anything `pg_` (reserved by PostgreSQL). */
export function isPostgresSystemSchema(name: string): boolean {
  const n = name.toLowerCase();
  return POSTGRES_SYSTEM_SCHEMAS.includes(n) || n.startsWith('pg_') || n === 'rdsadmin' || n.startsWith('aws_');
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-4])$/;
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
// ECR: 2-256 chars, lowercase, may contain / . _ - between alphanumerics.
const ECR_REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
// Docker tag grammar: up to 128 chars, starts with a word character.
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const range = (from: number, to: number, step: number) =>
  Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
/** Memory (MiB) Fargate accepts for each task CPU value. */
export const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
};

/** Every problem with a payment section, each naming its field (`<env>.payment.<field>`). */
export function paymentConfigProblems(envName: EnvName, c: PaymentConfig): string[] {
  const p: string[] = [];
  const at = (field: string, expected: string, got: unknown) =>
    p.push(`${envName}.payment.${field}: expected ${expected}, got ${JSON.stringify(got)}`);
  const int = (field: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) at(field, `an integer from ${min} to ${max}`, v);
  };

  if (!REGION.test(c.region)) at('region', 'an AWS region such as us-east-1', c.region);
  if (!REGION.test(c.replicaRegion)) at('replicaRegion', 'an AWS region such as us-west-2', c.replicaRegion);
  if (c.region === c.replicaRegion) {
    at(
      'replicaRegion',
      `a region other than ${c.region} (the replica must survive a regional outage)`,
      c.replicaRegion,
    );
  }
  if (c.removal !== 'retain' && c.removal !== 'destroy') at('removal', '"retain" or "destroy"', c.removal);
  if (envName === 'prod' && c.removal !== 'retain') at('removal', '"retain" in prod', c.removal);
  if (!/^[A-Za-z0-9 _.:/=+@-]{1,256}$/.test(c.costCenter))
    at('costCenter', 'a tag value of 1-256 characters', c.costCenter);
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(c.migrationPhase)) {
    at('migrationPhase', 'a lowercase phase name such as replication or cutover', c.migrationPhase);
  }
  int('logRetentionDays', c.logRetentionDays, 1, 3653);

  if (!CIDR.test(c.network.cidr)) at('network.cidr', 'an IPv4 CIDR from /16 to /24', c.network.cidr);
  int('network.natGateways', c.network.natGateways, 1, 2);

  const db = c.database;
  if (!/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(db.instanceClass)) {
    at('database.instanceClass', 'an RDS class such as db.r6g.large', db.instanceClass);
  }
  int('database.allocatedStorageGb', db.allocatedStorageGb, 20, 65536);
  int('database.maxAllocatedStorageGb', db.maxAllocatedStorageGb, db.allocatedStorageGb, 65536);
  int('database.backupRetentionDays', db.backupRetentionDays, 7, 35);
  int('database.rotationDays', db.rotationDays, 1, 365);
  if (!IDENT.test(db.databaseName)) at('database.databaseName', 'a lowercase PostgreSQL identifier', db.databaseName);
  if (envName === 'prod' && !db.multiAz) at('database.multiAz', 'true in prod', db.multiAz);

  const s = c.service;
  if (s.ecrRepositoryName.length < 2 || s.ecrRepositoryName.length > 256 || !ECR_REPOSITORY.test(s.ecrRepositoryName)) {
    at('service.ecrRepositoryName', 'an ECR repository name (lowercase, digits, / . _ -)', s.ecrRepositoryName);
  }
  if (!IMAGE_TAG.test(s.imageTag)) at('service.imageTag', 'a Docker image tag', s.imageTag);
  if (s.imageTag === 'latest') at('service.imageTag', 'an immutable release tag, not "latest"', s.imageTag);
  const mem = FARGATE_MEMORY[s.cpu];
  if (!mem) {
    at('service.cpu', `one of ${Object.keys(FARGATE_MEMORY).join(', ')}`, s.cpu);
  } else if (!mem.includes(s.memoryMiB)) {
    at('service.memoryMiB', `one of ${mem.join(', ')} for cpu ${s.cpu} (Fargate task sizes)`, s.memoryMiB);
  }
  int('service.minCount', s.minCount, 1, 100);
  int('service.maxCount', s.maxCount, Math.max(1, s.minCount), 100);
  int('service.desiredCount', s.desiredCount, s.minCount, Math.max(s.minCount, s.maxCount));
  int('service.containerPort', s.containerPort, 1024, 65535);
  int('service.targetUtilizationPercent', s.targetUtilizationPercent, 10, 90);
  if (!/^\/[A-Za-z0-9/_.-]{0,1023}$/.test(s.healthCheckPath)) {
    at('service.healthCheckPath', 'an absolute path such as /health', s.healthCheckPath);
  }
  if (
    s.certificateArn !== undefined &&
    !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/.test(s.certificateArn)
  ) {
    at('service.certificateArn', 'an ACM certificate ARN', s.certificateArn);
  } else if (s.certificateArn !== undefined && s.certificateArn.split(':')[3] !== c.region) {
    at(
      'service.certificateArn',
      `a certificate in ${c.region} (ALBs use certificates of their own region)`,
      s.certificateArn,
    );
  }

  const dms = c.dms;
  if (!/^dms\.[a-z0-9]+\.[a-z0-9]+$/.test(dms.instanceClass)) {
    at('dms.instanceClass', 'a class such as dms.t3.medium', dms.instanceClass);
  }
  int('dms.allocatedStorageGb', dms.allocatedStorageGb, 5, 6144);
  // Forward task + a later reverse task + one task being replaced, each with a slot and a sender.
  int('dms.replicationSlots', dms.replicationSlots, 3, 100);
  if (dms.schemas.length === 0) at('dms.schemas', 'at least one payment schema (mappings are an allowlist)', []);
  for (const [i, schema] of dms.schemas.entries()) {
    if (!IDENT.test(schema.name)) {
      at(
        `dms.schemas[${i}].name`,
        'a literal lowercase schema name (no wildcards: mappings are an allowlist)',
        schema.name,
      );
    } else if (isPostgresSystemSchema(schema.name)) {
      at(
        `dms.schemas[${i}].name`,
        'a payment schema; pg_catalog, information_schema, pg_* and rdsadmin are never migrated',
        schema.name,
      );
    }
    if (schema.tables !== undefined && schema.tables.length === 0) {
      at(`dms.schemas[${i}].tables`, 'at least one table, or no tables field for the whole schema', []);
    }
    for (const t of schema.tables ?? []) {
      if (!/^[a-z_%][a-z0-9_%]{0,62}$/.test(t))
        at(`dms.schemas[${i}].tables`, 'lowercase table names or DMS % wildcards', t);
    }
  }

  int('logs.transitionToGlacierDays', c.logs.transitionToGlacierDays, 1, 3650);
  int('logs.noncurrentVersionExpirationDays', c.logs.noncurrentVersionExpirationDays, 1, 3650);
  int('logs.accessLogExpirationDays', c.logs.accessLogExpirationDays, 1, 3650);

  if (!/^Z[A-Z0-9]{1,31}$/.test(c.dns.hostedZoneId))
    at('dns.hostedZoneId', 'a Route 53 zone id such as Z0123456789ABC', c.dns.hostedZoneId);
  const zone = c.dns.hostedZoneName.replace(/\.$/, '').toLowerCase();
  if (!/^([a-z0-9-]+\.)+[a-z]{2,}$/.test(zone)) at('dns.hostedZoneName', 'a domain name', c.dns.hostedZoneName);
  const record = c.dns.recordName.replace(/\.$/, '').toLowerCase();
  if (record !== zone && !record.endsWith(`.${zone}`)) {
    at('dns.recordName', `a name inside ${c.dns.hostedZoneName}`, c.dns.recordName);
  }
  return p;
}
