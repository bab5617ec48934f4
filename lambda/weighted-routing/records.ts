/**
 * Pure logic of the weighted-records custom resource: what the record sets should be, given the resource's
 * properties and what Route 53 holds now. The rule that matters: the weight of a record that exists is read
 * from Route 53 and written back unchanged; only a record that does not exist gets the initial weight.
 */
import { InvalidRequestError, requireString, optionalString, type ResourceProperties } from '../shared/custom-resource';

export const RESOURCE_TYPE = 'Custom::WeightedServiceRecords';

export interface WeightedAliasRecord {
  readonly setIdentifier: string;
  /** Alias target: the load balancer's DNS name (with `dualstack.`) and its canonical hosted zone. */
  readonly aliasDnsName: string;
  readonly aliasHostedZoneId: string;
  /** Route 53 health check associated with the record; none: Route 53 always treats the record as healthy. */
  readonly healthCheckId?: string;
  /** Weight on creation only (0-255). */
  readonly initialWeight: number;
}

export interface WeightedRecordsSpec {
  readonly hostedZoneId: string;
  /** Fully qualified, lower case, with the trailing dot, as Route 53 lists names. */
  readonly recordName: string;
  readonly recordType: 'A' | 'AAAA';
  readonly records: readonly WeightedAliasRecord[];
}

/** A weighted alias record as Route 53 stores it (the fields this resource writes). */
export interface LiveRecord {
  readonly setIdentifier: string;
  readonly weight: number;
  readonly aliasDnsName?: string;
  readonly aliasHostedZoneId?: string;
  readonly evaluateTargetHealth?: boolean;
  readonly healthCheckId?: string;
}

export interface RecordChange {
  readonly action: 'CREATE' | 'UPSERT' | 'DELETE';
  readonly record: LiveRecord;
}

export function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

export function parseSpec(properties: ResourceProperties, where = 'ResourceProperties'): WeightedRecordsSpec {
  const recordType = requireString(properties, 'RecordType', where);
  if (recordType !== 'A' && recordType !== 'AAAA') {
    throw new InvalidRequestError(`${where}.RecordType must be A or AAAA, got ${JSON.stringify(recordType)}`);
  }
  const raw = properties['Records'];
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new InvalidRequestError(`${where}.Records must be a non-empty list`);
  }
  const records = raw.map((r, i): WeightedAliasRecord => {
    const at = `${where}.Records[${i}]`;
    if (typeof r !== 'object' || r === null) throw new InvalidRequestError(`${at} is not an object`);
    const props = r as ResourceProperties;
    const weightText = requireString(props, 'InitialWeight', at);
    const initialWeight = Number(weightText);
    if (!Number.isInteger(initialWeight) || initialWeight < 0 || initialWeight > 255) {
      throw new InvalidRequestError(`${at}.InitialWeight must be a whole number from 0 to 255, got ${weightText}`);
    }
    const healthCheckId = optionalString(props, 'HealthCheckId', at);
    return {
      setIdentifier: requireString(props, 'SetIdentifier', at),
      aliasDnsName: requireString(props, 'AliasDnsName', at),
      aliasHostedZoneId: requireString(props, 'AliasHostedZoneId', at),
      initialWeight,
      ...(healthCheckId ? { healthCheckId } : {}),
    };
  });
  const ids = records.map((r) => r.setIdentifier);
  if (new Set(ids).size !== ids.length) {
    throw new InvalidRequestError(`${where}.Records repeat a SetIdentifier: ${ids.join(', ')}`);
  }
  return {
    hostedZoneId: requireString(properties, 'HostedZoneId', where),
    recordName: normalizeName(requireString(properties, 'RecordName', where)),
    recordType,
    records,
  };
}

/** The group's identity: a change of zone, name or type is a new resource (CloudFormation deletes the old one). */
export function physicalIdOf(spec: WeightedRecordsSpec): string {
  return `${spec.hostedZoneId}|${spec.recordName}|${spec.recordType}`;
}

function toLive(spec: WeightedAliasRecord, weight: number): LiveRecord {
  return {
    setIdentifier: spec.setIdentifier,
    weight,
    aliasDnsName: spec.aliasDnsName,
    aliasHostedZoneId: spec.aliasHostedZoneId,
    // Health comes from the associated health check only; evaluating the ALB as well would add a second,
    // different notion of health (see docs/adr/0013).
    evaluateTargetHealth: false,
    ...(spec.healthCheckId ? { healthCheckId: spec.healthCheckId } : {}),
  };
}

/** Create: every record with its initial weight; CREATE fails if someone else's record is in the way. */
export function changesForCreate(spec: WeightedRecordsSpec): RecordChange[] {
  return spec.records.map((r) => ({ action: 'CREATE', record: toLive(r, r.initialWeight) }));
}

/**
 * Update: everything but the weight follows the properties; the weight of each record that exists is the live one.
 * A record that has gone missing is created again with its initial weight. Records of this group whose set
 * identifier is no longer wanted are deleted.
 */
export function changesForUpdate(
  spec: WeightedRecordsSpec,
  live: readonly LiveRecord[],
  previousSetIdentifiers: readonly string[] = [],
): { changes: RecordChange[]; recreated: string[] } {
  const bySet = new Map(live.map((r) => [r.setIdentifier, r]));
  const recreated: string[] = [];
  const changes: RecordChange[] = spec.records.map((r) => {
    const current = bySet.get(r.setIdentifier);
    if (!current) recreated.push(r.setIdentifier);
    return { action: 'UPSERT', record: toLive(r, current ? current.weight : r.initialWeight) };
  });
  const wanted = new Set(spec.records.map((r) => r.setIdentifier));
  for (const id of previousSetIdentifiers) {
    const old = bySet.get(id);
    if (!wanted.has(id) && old) changes.push({ action: 'DELETE', record: old });
  }
  return { changes, recreated };
}

/** Delete: exactly what Route 53 holds for our set identifiers (a DELETE must match the live record). */
export function changesForDelete(setIdentifiers: readonly string[], live: readonly LiveRecord[]): RecordChange[] {
  const ours = new Set(setIdentifiers);
  return live.filter((r) => ours.has(r.setIdentifier)).map((record) => ({ action: 'DELETE', record }));
}

/** Weights as reported to CloudFormation (and logged): `source=100,target=0`. */
export function describeWeights(changes: readonly RecordChange[]): string {
  return changes
    .filter((c) => c.action !== 'DELETE')
    .map((c) => `${c.record.setIdentifier}=${c.record.weight}`)
    .join(',');
}

export function setIdentifiersOf(properties: ResourceProperties | undefined): string[] {
  if (!properties) return [];
  const raw = properties['Records'];
  if (!Array.isArray(raw)) return [];
  return raw
    .map((r) => (typeof r === 'object' && r !== null ? (r as Record<string, unknown>)['SetIdentifier'] : undefined))
    .filter((id): id is string => typeof id === 'string');
}
