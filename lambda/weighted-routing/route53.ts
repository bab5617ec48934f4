import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import type { LiveRecord, RecordChange, WeightedRecordsSpec } from './records';
import { normalizeName } from './records';

export const route53 = new Route53Client({});

/** The weighted records of the group (name and type) as Route 53 holds them now. */
export async function listLiveRecords(
  hostedZoneId: string,
  recordName: string,
  recordType: WeightedRecordsSpec['recordType'],
): Promise<LiveRecord[]> {
  const out: LiveRecord[] = [];
  let start: { name?: string; type?: string; identifier?: string } = { name: recordName, type: recordType };
  for (;;) {
    const page = await route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: hostedZoneId,
        StartRecordName: start.name,
        StartRecordType: start.type as never,
        StartRecordIdentifier: start.identifier,
      }),
    );
    for (const set of page.ResourceRecordSets ?? []) {
      // Listing starts at the name and runs on through later names: stop at the first other one.
      if (normalizeName(set.Name ?? '') !== recordName || set.Type !== recordType) return out;
      if (set.SetIdentifier !== undefined && set.Weight !== undefined) out.push(fromRecordSet(set));
    }
    if (!page.IsTruncated) return out;
    start = {
      ...(page.NextRecordName ? { name: page.NextRecordName } : {}),
      ...(page.NextRecordType ? { type: page.NextRecordType } : {}),
      ...(page.NextRecordIdentifier ? { identifier: page.NextRecordIdentifier } : {}),
    };
  }
}

function fromRecordSet(set: ResourceRecordSet): LiveRecord {
  return {
    setIdentifier: set.SetIdentifier!,
    weight: Number(set.Weight),
    ...(set.AliasTarget?.DNSName ? { aliasDnsName: set.AliasTarget.DNSName } : {}),
    ...(set.AliasTarget?.HostedZoneId ? { aliasHostedZoneId: set.AliasTarget.HostedZoneId } : {}),
    ...(set.AliasTarget ? { evaluateTargetHealth: set.AliasTarget.EvaluateTargetHealth ?? false } : {}),
    ...(set.HealthCheckId ? { healthCheckId: set.HealthCheckId } : {}),
  };
}

function toRecordSet(spec: Pick<WeightedRecordsSpec, 'recordName' | 'recordType'>, r: LiveRecord): ResourceRecordSet {
  return {
    Name: spec.recordName,
    Type: spec.recordType,
    SetIdentifier: r.setIdentifier,
    Weight: r.weight,
    // Alias records carry no TTL: Route 53 uses the target's.
    AliasTarget: {
      DNSName: r.aliasDnsName,
      HostedZoneId: r.aliasHostedZoneId,
      EvaluateTargetHealth: r.evaluateTargetHealth ?? false,
    },
    ...(r.healthCheckId ? { HealthCheckId: r.healthCheckId } : {}),
  };
}

/** Applies the changes as one batch (all or nothing) and returns the change id. */
export async function applyChanges(
  spec: Pick<WeightedRecordsSpec, 'hostedZoneId' | 'recordName' | 'recordType'>,
  changes: readonly RecordChange[],
  comment: string,
): Promise<string | undefined> {
  if (changes.length === 0) return undefined;
  const out = await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: spec.hostedZoneId,
      ChangeBatch: {
        Comment: comment.slice(0, 256),
        Changes: changes.map((c) => ({ Action: c.action, ResourceRecordSet: toRecordSet(spec, c.record) })),
      },
    }),
  );
  return out.ChangeInfo?.Id;
}

/** Waits until Route 53 reports the change INSYNC on all its name servers, or the time runs out. */
export async function waitInSync(
  changeId: string,
  deadlineMs: number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => number = Date.now,
): Promise<boolean> {
  for (;;) {
    const out = await route53.send(new GetChangeCommand({ Id: changeId }));
    if (out.ChangeInfo?.Status === 'INSYNC') return true;
    if (now() + 5000 > deadlineMs) return false;
    await sleep(5000);
  }
}
