import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * Every AwsSolutions finding (error or warning) in `scope` that no acknowledgement covers, as
 * `rule @ construct path`, so a failing test names what to fix.
 */
export function unacknowledgedAwsSolutionsFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(scope).validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} (${v.severity}) @ ${r.resourceLogicalId}`),
  );
}
