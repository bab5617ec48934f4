import { createHash } from 'node:crypto';

/** Names Step Functions accepts and that also keep CloudWatch logging working: 1-80 of [A-Za-z0-9-_]. */
const SAFE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The execution name for a correlation id. The Glue trigger's ids (32 hex characters) are used as they are,
 * so an operator can search executions by correlation id; anything else is hashed, which keeps the name
 * deterministic (a repeat maps to the same name) and valid.
 */
export function executionNameFor(correlationId: string): string {
  if (SAFE_NAME.test(correlationId)) return correlationId;
  return `cid-${createHash('sha256').update(correlationId).digest('hex')}`;
}

/**
 * The execution name for the objects of one dataset in one validation batch: every PASSED result of that
 * dataset in that batch maps to the same name, so the first starts the execution and the rest are duplicates.
 * `b-` and 32 hex characters (128 bits of SHA-256), which cannot collide with a correlation id (no `-`).
 */
export function batchExecutionNameFor(batchId: string, dataset: string): string {
  return `b-${createHash('sha256').update(`${batchId}\n${dataset}`).digest('hex').slice(0, 32)}`;
}
