/**
 * What kind of DMS failure a message describes, which decides the recovery:
 * - `checkpoint-lost`: the source position the task would resume from no longer exists (binary log purged,
 *   a Blue/Green switch-over of the source, a replication slot or WAL segment gone). `resume-processing`
 *   fails forever; only `reload-target` (a new full load) recovers, and only if configuration allows it.
 * - `permanent`: configuration or credentials are wrong; no restart fixes that.
 * - `transient`: the network, a timeout, throttling or a lost connection; resuming from the checkpoint is right.
 * - `unknown`: anything else. Resuming is tried (bounded): it cannot lose or duplicate data, since the task
 *   continues from its own checkpoint.
 */
export type DmsFailureKind = 'checkpoint-lost' | 'permanent' | 'transient' | 'unknown';

const CHECKPOINT_LOST: RegExp[] = [
  /could not find (the )?(first log file|position|log file|binlog|binary log)/i,
  /(binary log|binlog).{0,200}\bpurged/i,
  /purged (binary logs?|binlogs?)/i,
  /error 1236/i, // MySQL ER_MASTER_FATAL_ERROR_READING_BINLOG: the requested binlog position is gone
  /requested wal segment .* has already been removed/i,
  /replication slot .* does not exist/i,
  /(checkpoint|cdc start position|recovery checkpoint) .*(invalid|not found|no longer (valid|available|exists?))/i,
  /(position|lsn|scn) .*(no longer available|not available in the (log|source))/i,
  /archived? (redo )?log .* (not found|no longer available)/i,
];

const PERMANENT: RegExp[] = [
  /access denied/i,
  /authentication failed|password authentication failed|invalid password|login failed/i,
  /not authori[sz]ed|permission denied|insufficient privileges?/i,
  /endpoint initialization failed/i,
  /unknown database|database .* does not exist/i,
  /kms key .*(disabled|not found|pending deletion)/i,
];

const TRANSIENT: RegExp[] = [
  /network|timed? ?out|timeout/i,
  /throttl|rate exceeded|too many requests/i,
  /connection (reset|refused|lost|closed|was closed|failure)|lost connection|could not connect|can't connect|failed to connect/i,
  /temporar(il)?y unavailable|service unavailable|try again/i,
  /broken pipe|econnreset|socket/i,
];

export function classifyDmsFailure(message: string): DmsFailureKind {
  if (CHECKPOINT_LOST.some((pattern) => pattern.test(message))) return 'checkpoint-lost';
  if (PERMANENT.some((pattern) => pattern.test(message))) return 'permanent';
  if (TRANSIENT.some((pattern) => pattern.test(message))) return 'transient';
  return 'unknown';
}
