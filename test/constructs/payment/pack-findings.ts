import { NagPack } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * Findings of `pack` (the payment stage's PCI DSS or NIST pack) on `scope` that no acknowledgement covers,
 * as `rule on construct path`. The AwsSolutions pack has its own helper (test/support/nag.ts).
 */
export function packFindings(pack: NagPack, scope: IConstruct): string[] {
  return pack
    .validateScope(scope)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} on ${r.constructPath ?? '?'}`));
}
