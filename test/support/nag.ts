import { IConstruct } from 'constructs';
import { StageAwsSolutionsChecks } from '../../lib/compliance/nag';

/**
 * Every AwsSolutions finding (error or warning) in `scope` that no acknowledgement covers, checked
 * with the pack every Stage runs (so `…` acknowledgements of cross-stack references count), as
 * `rule (severity) on logical id or path`, so a failing test names what to fix.
 */
export function unacknowledgedAwsSolutionsFindings(scope: IConstruct): string[] {
  const report = new StageAwsSolutionsChecks(scope).validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map(
      (r) => `${v.ruleName} (${v.severity}) on ${r.resourceLogicalId ?? r.constructPath ?? '?'}`,
    ),
  );
}
