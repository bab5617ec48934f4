import { GetJobRunsCommand, type GlueClient, type JobRun } from '@aws-sdk/client-glue';

/** Glue job argument names the data path passes to the validation job. */
export const GLUE_ARGUMENTS = {
  bucket: '--bucket',
  key: '--key',
  versionId: '--version_id',
  correlationId: '--correlation_id',
  /** A batch: JSON list of `{bucket, key, versionId, correlationId}` (docs/glue.md). */
  objects: '--objects',
  /** Names a batch run so a taker of an expired claim can find it; the job itself ignores it. */
  batchId: '--batch_id',
  remediationAttempt: '--remediation_attempt',
} as const;

/**
 * Finds a run of `jobName` started at or after `startedAfter` whose arguments include all of `match`.
 *
 * Used after taking over an expired claim: the previous holder may have started the run and died before
 * recording its id. StartJobRun has no idempotency token, so the run's own arguments are the only record.
 * GetJobRuns lists the newest runs first; the scan stops at the first page that reaches back before
 * `startedAfter`, and after `maxPages` pages in any case.
 */
export async function findJobRun(
  glue: GlueClient,
  jobName: string,
  match: Record<string, string>,
  startedAfter: Date,
  maxPages = 10,
): Promise<JobRun | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const out = await glue.send(new GetJobRunsCommand({ JobName: jobName, NextToken: nextToken, MaxResults: 200 }));
    const runs = out.JobRuns ?? [];
    const found = runs.find(
      (run) =>
        (run.StartedOn === undefined || run.StartedOn >= startedAfter) &&
        Object.entries(match).every(([name, value]) => run.Arguments?.[name] === value),
    );
    if (found !== undefined) return found;
    const reachedBack = runs.some((run) => run.StartedOn !== undefined && run.StartedOn < startedAfter);
    nextToken = out.NextToken;
    if (reachedBack || nextToken === undefined) return undefined;
  }
  return undefined;
}
