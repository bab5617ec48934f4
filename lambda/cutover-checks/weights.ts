/**
 * Route 53 weights: read the live weighted records (never assume what a previous run or a person
 * left), and build the UPSERTs that change only their Weight.
 */

export interface ResourceRecordSet {
  readonly Name?: string;
  readonly Type?: string;
  readonly SetIdentifier?: string;
  readonly Weight?: number;
  readonly [key: string]: unknown;
}

export interface Routing {
  readonly recordName: string;
  readonly recordType?: string;
  readonly sourceSetIdentifier: string;
  readonly targetSetIdentifier: string;
}

export interface WeightChange {
  readonly Action: 'UPSERT';
  readonly ResourceRecordSet: ResourceRecordSet;
}

export interface WeightPlan {
  readonly before: { source: number; target: number };
  readonly after: { source: number; target: number };
  /** False when the live weights already are the wanted ones (no change is sent). */
  readonly changed: boolean;
  readonly changes: WeightChange[];
}

export class RoutingNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Cutover.RoutingNotFound';
  }
}

const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/** Finds the two weighted records in a ListResourceRecordSets answer. */
export function liveRecords(
  records: readonly ResourceRecordSet[],
  routing: Routing,
): { source: ResourceRecordSet; target: ResourceRecordSet } {
  const type = routing.recordType ?? 'A';
  const pick = (id: string) => {
    const r = records.find(
      (x) => fqdn(x.Name ?? '') === fqdn(routing.recordName) && x.Type === type && x.SetIdentifier === id,
    );
    if (!r) {
      throw new RoutingNotFoundError(
        `no ${type} record ${routing.recordName} with SetIdentifier ${id} in the hosted zone; the payment stage creates it`,
      );
    }
    if (typeof r.Weight !== 'number')
      throw new RoutingNotFoundError(`record ${routing.recordName} (${id}) is not weighted`);
    return r;
  };
  return { source: pick(routing.sourceSetIdentifier), target: pick(routing.targetSetIdentifier) };
}

/** The changes that give the target `targetWeight` percent (the source the rest), from the live records. */
export function planWeights(records: readonly ResourceRecordSet[], routing: Routing, targetWeight: number): WeightPlan {
  if (!Number.isInteger(targetWeight) || targetWeight < 0 || targetWeight > 100) {
    throw new Error(`targetWeight must be a whole number 0-100, got ${targetWeight}`);
  }
  const live = liveRecords(records, routing);
  const before = { source: live.source.Weight as number, target: live.target.Weight as number };
  const after = { source: 100 - targetWeight, target: targetWeight };
  const changed = before.source !== after.source || before.target !== after.target;
  // The target first when it grows, the source first when it shrinks back: each intermediate state
  // keeps the source's share at least as large as planned, never the other way round.
  const order = targetWeight >= before.target ? (['target', 'source'] as const) : (['source', 'target'] as const);
  return {
    before,
    after,
    changed,
    changes: changed
      ? order.map((side) => ({ Action: 'UPSERT' as const, ResourceRecordSet: { ...live[side], Weight: after[side] } }))
      : [],
  };
}
