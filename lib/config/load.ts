import {
  EnvName,
  ENV_NAMES,
  EnvironmentConfig,
  INTERFACE_ENDPOINT_SERVICES,
  OnPremisesRouteTarget,
  TargetTablePrepMode,
} from './environment-config';
import { validationBatchProblems } from './burst-sizing';
import { isPublicIpv4, parseCidr, parseIpv4, rangeContains, rangesOverlap } from './ipv4';
import { ENVIRONMENTS } from './environments';
import { paymentConfigProblems } from './payment-config';

/** Raised when configuration is unusable; the message lists every bad field and what is expected. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads a context value; `undefined` for absent or empty. */
export type ContextReader = (key: string) => unknown;

/** Schemas DMS must never copy: they hold grants and password hashes (`mysql.user`) or server internals. */
export const MYSQL_SYSTEM_SCHEMAS: readonly string[] = ['mysql', 'performance_schema', 'sys', 'information_schema'];

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-8])$/;
/** An EC2 instance type such as `m5.2xlarge` or `t4g.nano`. */
const INSTANCE_TYPE = /^[a-z0-9]+\.[a-z0-9]+$/;
const SCHEDULE = /^(cron|rate)\(.+\)$/;
const SANDBOX = /^[a-z][a-z0-9-]{1,14}$/;

/** A context or environment value as a trimmed string; `undefined` when absent or blank. */
export function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

/**
 * Builds the config of one environment: the committed values from `environments.ts`, plus the
 * account from context `<env>Account` or environment variable `<ENV>_ACCOUNT`. Everything that
 * shapes the templates (alarm e-mail, admin role) is committed config, never read from the shell,
 * so the pipeline's synth and a laptop's produce the same stage. Throws `ConfigError` if invalid.
 */
export function loadEnvironmentConfig(
  envName: string,
  context: ContextReader = () => undefined,
  env: NodeJS.ProcessEnv = process.env,
): EnvironmentConfig {
  if (!ENV_NAMES.includes(envName as EnvName)) {
    throw new ConfigError([`environment "${envName}" is unknown; expected one of ${ENV_NAMES.join(', ')}`]);
  }
  const name = envName as EnvName;
  const base = ENVIRONMENTS[name];
  const account = str(context(`${name}Account`)) ?? str(env[`${name.toUpperCase()}_ACCOUNT`]);
  const region = str(context(`${name}Region`)) ?? base.region;
  const config: EnvironmentConfig = {
    ...base,
    region,
    ...(account ? { account } : {}),
  };
  validateEnvironmentConfig(config);
  return config;
}

/** Checks every field a deploy would otherwise fail on, late and obscurely. */
export function validateEnvironmentConfig(c: EnvironmentConfig): void {
  const p: string[] = [];
  const at = (field: string, expected: string, got: unknown) =>
    p.push(`${c.envName}.${field}: expected ${expected}, got ${JSON.stringify(got)}`);
  const int = (field: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) at(field, `an integer from ${min} to ${max}`, v);
  };

  if (c.account !== undefined && !ACCOUNT.test(c.account)) at('account', 'a 12-digit AWS account id', c.account);
  if (!REGION.test(c.region)) at('region', 'an AWS region such as us-west-2', c.region);
  if (c.alarmEmail !== undefined && !EMAIL.test(c.alarmEmail)) at('alarmEmail', 'an e-mail address', c.alarmEmail);
  if (c.removal === 'destroy' && c.envName !== 'dev') {
    at('removal', '"retain" outside dev (stateful resources must survive a stack deletion)', c.removal);
  }
  int('logRetentionDays', c.logRetentionDays, 1, 3653);

  if (!CIDR.test(c.network.cidr)) at('network.cidr', 'an IPv4 CIDR from /16 to /28', c.network.cidr);
  int('network.maxAzs', c.network.maxAzs, 2, 6);
  int('network.natGateways', c.network.natGateways, 1, c.network.maxAzs);
  validateNatProvider(c, at);
  validateOnPremises(c, at);
  int('network.flowLogRetentionDays', c.network.flowLogRetentionDays, 1, 3653);
  const endpoints = c.network.interfaceEndpoints;
  if (endpoints !== undefined && !endpoints.includes('SecretsManager')) {
    at('network.interfaceEndpoints', 'a list with SecretsManager (DMS and rotation reach it only there)', endpoints);
  }
  for (const e of endpoints ?? []) {
    if (!INTERFACE_ENDPOINT_SERVICES.includes(e)) {
      at('network.interfaceEndpoints', `services from ${INTERFACE_ENDPOINT_SERVICES.join(', ')}`, e);
    }
  }
  if (c.network.interfaceEndpointAzs !== undefined) {
    int('network.interfaceEndpointAzs', c.network.interfaceEndpointAzs, 1, c.network.maxAzs);
  }

  int('storage.noncurrentVersionExpirationDays', c.storage.noncurrentVersionExpirationDays, 1, 3650);
  int('storage.abortIncompleteUploadDays', c.storage.abortIncompleteUploadDays, 1, 365);
  int('storage.accessLogExpirationDays', c.storage.accessLogExpirationDays, 1, 3650);

  const ds = c.dataSync;
  if (!INSTANCE_TYPE.test(ds.agentInstanceType)) {
    at('dataSync.agentInstanceType', 'an EC2 instance type such as m5.2xlarge', ds.agentInstanceType);
  }
  if (ds.activationAttempt !== undefined && !(Number.isInteger(ds.activationAttempt) && ds.activationAttempt >= 0)) {
    at(
      'dataSync.activationAttempt',
      'a whole number, 0 or more (raise it by one to retry activation)',
      ds.activationAttempt,
    );
  }
  if (!ds.source.serverHostname) at('dataSync.source.serverHostname', 'the on-premises server name', '');
  if (!ds.source.subdirectory.startsWith('/')) {
    at('dataSync.source.subdirectory', 'an absolute export or share path starting with /', ds.source.subdirectory);
  }
  if (ds.source.protocol === 'SMB' && !ds.source.passwordSecretArn.startsWith('arn:')) {
    at('dataSync.source.passwordSecretArn', 'a Secrets Manager secret ARN', ds.source.passwordSecretArn);
  }
  if (ds.scheduleExpression !== undefined && !SCHEDULE.test(ds.scheduleExpression)) {
    at('dataSync.scheduleExpression', 'cron(...) or rate(...)', ds.scheduleExpression);
  }
  if (ds.agentPowerSchedule !== undefined) {
    const { startExpression, stopExpression } = ds.agentPowerSchedule;
    for (const [field, v] of [
      ['startExpression', startExpression],
      ['stopExpression', stopExpression],
    ] as const) {
      if (!/^cron\([^)]+\)$/.test(v)) at(`dataSync.agentPowerSchedule.${field}`, 'cron(...) in UTC', v);
    }
    if (ds.scheduleExpression === undefined) {
      at(
        'dataSync.scheduleExpression',
        'a transfer schedule when agentPowerSchedule stops the agent between runs',
        undefined,
      );
    }
  }
  if (ds.existingAgentArn !== undefined && !/^arn:aws[a-z-]*:datasync:/.test(ds.existingAgentArn)) {
    at('dataSync.existingAgentArn', 'a DataSync agent ARN', ds.existingAgentArn);
  }

  const db = c.database;
  if (db.sizing.kind === 'serverless') {
    const { minCapacity, maxCapacity } = db.sizing;
    // 0 (auto-pause) needs Aurora MySQL 3.08 or later; DatabaseStack pins 3.10.
    if (!(
      minCapacity >= 0 &&
      maxCapacity >= 1 &&
      maxCapacity <= 256 &&
      minCapacity <= maxCapacity &&
      (minCapacity * 2) % 1 === 0 &&
      (maxCapacity * 2) % 1 === 0
    )) {
      at(
        'database.sizing',
        'Serverless v2 capacities in steps of 0.5 ACU, 0 <= min <= max <= 256, max >= 1',
        db.sizing,
      );
    }
  } else if (!INSTANCE_TYPE.test(db.sizing.instanceType)) {
    at('database.sizing.instanceType', 'an instance class without the db. prefix, e.g. r6g.large', db.sizing);
  }
  int('database.readers', db.readers, 0, 15);
  int('database.backupRetentionDays', db.backupRetentionDays, 7, 35);
  int('database.rotationDays', db.rotationDays, 1, 365);
  if (c.envName === 'prod' && !db.deletionProtection) at('database.deletionProtection', 'true in prod', false);
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(db.defaultDatabaseName)) {
    at('database.defaultDatabaseName', 'a MySQL identifier', db.defaultDatabaseName);
  }

  const dms = c.dms;
  if (!/^dms\.[a-z0-9]+\.[a-z0-9]+$/.test(dms.instanceClass)) {
    at('dms.instanceClass', 'a class such as dms.t3.medium', dms.instanceClass);
  }
  if (c.envName === 'prod' && /^dms\.t\d/.test(dms.instanceClass)) {
    at('dms.instanceClass', 'a non-burstable class in prod (e.g. dms.r6i.large or dms.c6i.large)', dms.instanceClass);
  }
  if (dms.targetTablePrepMode !== undefined && !TARGET_TABLE_PREP_MODES.includes(dms.targetTablePrepMode)) {
    at('dms.targetTablePrepMode', TARGET_TABLE_PREP_MODES.join(' | '), dms.targetTablePrepMode);
  }
  int('dms.allocatedStorageGb', dms.allocatedStorageGb, 5, 6144);
  int('dms.source.port', dms.source.port, 1, 65535);
  if (dms.source.secretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:/.test(dms.source.secretArn)) {
    at('dms.source.secretArn', 'a Secrets Manager secret ARN', dms.source.secretArn);
  }
  if (dms.schemas.length === 0) at('dms.schemas', 'at least one schema to migrate (an allowlist)', []);
  for (const [i, s] of dms.schemas.entries()) {
    if (!/^[A-Za-z0-9_$]+$/.test(s.name)) {
      at(`dms.schemas[${i}].name`, 'a literal schema name (no wildcards: mappings are an allowlist)', s.name);
    }
    if (MYSQL_SYSTEM_SCHEMAS.includes(s.name.toLowerCase())) {
      at(`dms.schemas[${i}].name`, `a user schema; ${MYSQL_SYSTEM_SCHEMAS.join(', ')} are never migrated`, s.name);
    }
    for (const t of s.tables ?? []) {
      if (!/^[A-Za-z0-9_$%]+$/.test(t)) at(`dms.schemas[${i}].tables`, 'table names or DMS % wildcards', t);
    }
  }
  int('dms.cdcLatencyThresholdSeconds', dms.cdcLatencyThresholdSeconds, 1, 3600);

  int('glue.maxRetries', c.glue.maxRetries, 0, 10);
  int('glue.numberOfWorkers', c.glue.numberOfWorkers, 2, 299);
  int('glue.maxConcurrentRuns', c.glue.maxConcurrentRuns, 1, 1000);
  if (!/^(G\.(025X|1X|2X|4X|8X)|Z\.2X)$/.test(c.glue.workerType)) {
    at('glue.workerType', 'a Glue worker type such as G.1X', c.glue.workerType);
  }
  p.push(...validationBatchProblems(c.glue));

  const os = c.openSearch;
  if (!/^OpenSearch_\d+\.\d+$/.test(os.engineVersion)) {
    at('openSearch.engineVersion', 'a version such as OpenSearch_2.19', os.engineVersion);
  }
  int('openSearch.dataNodes', os.dataNodes, 1, 80);
  if (!os.dataNodeInstanceType.endsWith('.search')) {
    at('openSearch.dataNodeInstanceType', 'an instance type ending in .search', os.dataNodeInstanceType);
  }
  if (os.masterNodes !== 0 && os.masterNodes !== 3 && os.masterNodes !== 5) {
    at('openSearch.masterNodes', '0, 3 or 5', os.masterNodes);
  } else if (c.envName === 'prod' && os.masterNodes === 0) {
    at('openSearch.masterNodes', '3 or 5 dedicated master nodes in prod', os.masterNodes);
  }
  int('openSearch.volumeSizeGb', os.volumeSizeGb, 10, 16384);
  int('openSearch.indexRetentionDays', os.indexRetentionDays, 1, 3650);
  if (os.adminRoleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(os.adminRoleArn)) {
    at('openSearch.adminRoleArn', 'an IAM role ARN', os.adminRoleArn);
  }
  int('remediation.maxAttempts', c.remediation.maxAttempts, 1, 10);
  p.push(...paymentConfigProblems(c.envName, c.payment));

  if (p.length > 0) throw new ConfigError(p);
}

const TARGET_TABLE_PREP_MODES: readonly TargetTablePrepMode[] = [
  'DO_NOTHING',
  'TRUNCATE_BEFORE_LOAD',
  'DROP_AND_CREATE',
];

const ROUTE_TARGET_IDS: Record<OnPremisesRouteTarget['type'], RegExp> = {
  'transit-gateway': /^tgw-[0-9a-f]{8,17}$/,
  'vpn-gateway': /^vgw-[0-9a-f]{8,17}$/,
  'vpc-peering-connection': /^pcx-[0-9a-f]{8,17}$/,
  'network-interface': /^eni-[0-9a-f]{8,17}$/,
};
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
/** Customer gateway ASNs AWS accepts (2-byte and 4-byte). */
const MAX_ASN = 4294967294;

type Report = (field: string, expected: string, got: unknown) => void;

/**
 * A NAT instance is one EC2 instance that nothing repairs: staging and prod keep managed NAT
 * gateways, so an instance failure never cuts their egress.
 */
function validateNatProvider(c: EnvironmentConfig, at: Report): void {
  const nat = c.network.natProvider as EnvironmentConfig['network']['natProvider'] | null;
  if (nat === undefined) return;
  if (nat?.kind === 'gateway') return;
  if (nat?.kind !== 'instance') {
    at('network.natProvider', "{ kind: 'gateway' } or { kind: 'instance', instanceType }", nat);
    return;
  }
  if (c.envName !== 'dev') {
    at('network.natProvider', "{ kind: 'gateway' } outside dev (a NAT instance is not highly available)", nat);
  }
  if (!INSTANCE_TYPE.test(nat.instanceType)) {
    at('network.natProvider.instanceType', 'an EC2 instance type such as t4g.nano', nat.instanceType);
  }
}

/**
 * The on-premises CIDR, the way there and its DNS. Connectivity is never assumed: a config without
 * it fails here, naming the setting, rather than deploying a VPC that cannot reach the sources.
 */
function validateOnPremises(c: EnvironmentConfig, at: Report): void {
  const n = c.network;
  const onPrem = parseCidr(n.onPremisesCidr);
  if (!onPrem) at('network.onPremisesCidr', 'the IPv4 CIDR of the on-premises network', n.onPremisesCidr);
  const vpc = parseCidr(n.cidr);
  if (onPrem && vpc && rangesOverlap(onPrem, vpc)) {
    at('network.onPremisesCidr', `a range that does not overlap the VPC (${n.cidr})`, n.onPremisesCidr);
  }

  const conn = n.onPremisesConnectivity as EnvironmentConfig['network']['onPremisesConnectivity'] | undefined;
  const kinds =
    "{ kind: 'site-to-site-vpn', ... }, { kind: 'transit-gateway', ... } or { kind: 'already-provided', ... }";
  if (conn === undefined || conn === null) {
    at(
      'network.onPremisesConnectivity',
      `how the VPC reaches the on-premises network: ${kinds} (docs/operations.md)`,
      conn,
    );
  } else if (conn.kind === 'site-to-site-vpn') {
    const ip = parseIpv4(conn.customerGatewayIp);
    if (ip === undefined || !isPublicIpv4(ip)) {
      at(
        'network.onPremisesConnectivity.customerGatewayIp',
        'the public IPv4 address of the on-premises VPN device',
        conn.customerGatewayIp,
      );
    }
    const routing = conn.routing as { type?: unknown; customerGatewayAsn?: unknown } | undefined;
    if (routing?.type === 'bgp') {
      const asn = routing.customerGatewayAsn;
      if (typeof asn !== 'number' || !Number.isInteger(asn) || asn < 1 || asn > MAX_ASN) {
        at('network.onPremisesConnectivity.routing.customerGatewayAsn', `a BGP ASN from 1 to ${MAX_ASN}`, asn);
      } else if (asn === (conn.amazonSideAsn ?? 64512)) {
        at('network.onPremisesConnectivity.routing.customerGatewayAsn', 'an ASN different from the Amazon side', asn);
      }
    } else if (routing?.type !== 'static') {
      at(
        'network.onPremisesConnectivity.routing',
        "{ type: 'bgp', customerGatewayAsn } or { type: 'static' }",
        routing,
      );
    }
    const amazon = conn.amazonSideAsn;
    if (
      amazon !== undefined &&
      !((amazon >= 64512 && amazon <= 65534) || (amazon >= 4200000000 && amazon <= MAX_ASN))
    ) {
      at(
        'network.onPremisesConnectivity.amazonSideAsn',
        'a private ASN (64512-65534 or 4200000000-4294967294)',
        amazon,
      );
    }
  } else if (conn.kind === 'transit-gateway') {
    if (!ROUTE_TARGET_IDS['transit-gateway'].test(conn.transitGatewayId ?? '')) {
      at('network.onPremisesConnectivity.transitGatewayId', 'a Transit Gateway id (tgw-...)', conn.transitGatewayId);
    }
  } else if (conn.kind === 'already-provided') {
    const target = conn.routeTarget as { type?: string; id?: string } | undefined;
    const pattern = target?.type ? ROUTE_TARGET_IDS[target.type as OnPremisesRouteTarget['type']] : undefined;
    if (!pattern) {
      at(
        'network.onPremisesConnectivity.routeTarget.type',
        `the route target, named explicitly: ${Object.keys(ROUTE_TARGET_IDS).join(' | ')}`,
        target?.type,
      );
    } else if (!pattern.test(target?.id ?? '')) {
      at('network.onPremisesConnectivity.routeTarget.id', `an id matching ${pattern.source}`, target?.id);
    }
  } else {
    at('network.onPremisesConnectivity.kind', kinds, (conn as { kind?: unknown }).kind);
  }

  const dns = n.onPremisesDns;
  if (dns) {
    if (dns.domains.length === 0) at('network.onPremisesDns.domains', 'at least one domain to forward', []);
    for (const d of dns.domains) {
      if (!DOMAIN.test(d)) at('network.onPremisesDns.domains', 'lower-case domain names such as corp.example.com', d);
    }
    if (dns.serverIps.length < 1 || dns.serverIps.length > 6) {
      at(
        'network.onPremisesDns.serverIps',
        '1 to 6 DNS server addresses (a resolver rule takes at most 6)',
        dns.serverIps,
      );
    }
    for (const s of dns.serverIps) {
      const ip = parseIpv4(s);
      if (ip === undefined || (onPrem && !rangeContains(onPrem, ip))) {
        at('network.onPremisesDns.serverIps', `IPv4 addresses inside onPremisesCidr ${n.onPremisesCidr}`, s);
      }
    }
  }
  // The sources must be reachable by name (through a forwarded domain) or by an on-premises address.
  const reachable = (host: string) => {
    const ip = parseIpv4(host);
    if (ip !== undefined) return onPrem !== undefined && rangeContains(onPrem, ip);
    const h = host.toLowerCase();
    return (dns?.domains ?? []).some((d) => h === d || h.endsWith(`.${d}`));
  };
  const expected = dns
    ? `a host under ${dns.domains.join(', ')} or an address inside ${n.onPremisesCidr}`
    : `an address inside ${n.onPremisesCidr} (or set network.onPremisesDns to resolve names)`;
  if (!reachable(c.dms.source.serverName)) at('dms.source.serverName', expected, c.dms.source.serverName);
  if (c.dataSync.source.serverHostname && !reachable(c.dataSync.source.serverHostname)) {
    at('dataSync.source.serverHostname', expected, c.dataSync.source.serverHostname);
  }
}

/** Validates a sandbox name (`-c sandbox=alice`); it prefixes stage and stack names. */
export function validateSandboxName(name: string): string {
  if (!SANDBOX.test(name)) {
    throw new ConfigError([
      `sandbox: expected 2-15 lowercase letters, digits or dashes starting with a letter, got ${JSON.stringify(name)}`,
    ]);
  }
  return name;
}

/** Refuses to deploy an environment whose account is unknown (synth alone is fine). */
export function assertDeployable(c: EnvironmentConfig): string {
  if (!c.account) {
    throw new ConfigError([
      `${c.envName}.account: expected a 12-digit account id to deploy; set -c ${c.envName}Account=<id> or ${c.envName.toUpperCase()}_ACCOUNT`,
    ]);
  }
  return c.account;
}
