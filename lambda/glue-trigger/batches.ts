import { createHash } from 'node:crypto';

/** One object of a batch, as the Glue entry's `--objects` names it (docs/glue.md). */
export interface BatchObject {
  bucket: string;
  key: string;
  /** null for an object without a version (the job pins the current version). */
  versionId: string | null;
  correlationId: string;
}

export interface ChunkBounds {
  maxObjects: number;
  maxBytes: number;
  /**
   * Characters of `--objects` JSON per run. Glue documents no bound on one argument's length that we found;
   * this keeps a run's arguments far below the request size of the API, whatever the key lengths.
   */
  maxArgumentChars: number;
}

export const MAX_ARGUMENT_CHARS = 100_000;

/**
 * Cuts objects into runs, in arrival order, so each run stays within every bound. An object larger than
 * `maxBytes` on its own still gets a run (alone): the bound shapes batches, it never refuses an object.
 */
export function chunkObjects<T extends { object: BatchObject; size: number }>(items: T[], bounds: ChunkBounds): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  let chars = 2; // the list's brackets
  for (const item of items) {
    const itemChars = JSON.stringify(item.object).length + 1;
    const full =
      current.length >= bounds.maxObjects ||
      (current.length > 0 && bytes + item.size > bounds.maxBytes) ||
      (current.length > 0 && chars + itemChars > bounds.maxArgumentChars);
    if (full) {
      chunks.push(current);
      current = [];
      bytes = 0;
      chars = 2;
    }
    current.push(item);
    bytes += item.size;
    chars += itemChars;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The batch id of chunk `index` of an invocation: unique per invocation attempt, 32 hex characters. */
export function batchIdFor(owner: string, index: number): string {
  return createHash('sha256').update(`${owner}\n${index}`).digest('hex').slice(0, 32);
}

/** The correlation ids a run's `--objects` argument names; empty when it is missing or not a list. */
export function correlationIdsOf(objectsArgument: string | undefined): Set<string> {
  if (objectsArgument === undefined) return new Set();
  try {
    const parsed: unknown = JSON.parse(objectsArgument);
    if (!Array.isArray(parsed)) return new Set();
    return new Set(
      parsed.flatMap((o: unknown) =>
        typeof o === 'object' && o !== null && typeof (o as { correlationId?: unknown }).correlationId === 'string'
          ? [(o as { correlationId: string }).correlationId]
          : [],
      ),
    );
  } catch {
    return new Set();
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
