import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * Stands for a CloudFormation reference inside an acknowledged finding id, e.g.
 * `AwsSolutions-IAM5[Resource::…/incoming/*]` for a grant on `<data bucket ARN>/incoming/*`.
 * cdk-nag renders cross-stack references with the producing stack's name, which differs per stage
 * and sandbox; the finding is still scoped to one resource, one rule and one literal suffix.
 */
export const REF = '…';

function patternAcknowledged(resource: IConstruct, ruleId: string): boolean {
  for (let current: IConstruct | undefined = resource; current; current = current.node.scope) {
    for (const entry of current.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const raw of Object.keys(entry.data as object)) {
        const id = raw.replace(/^annotation::/i, '');
        if (!id.includes(REF)) continue;
        const pattern = new RegExp(
          `^${id
            .split(REF)
            .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
            .join('.+')}$`,
        );
        if (pattern.test(ruleId)) return true;
      }
    }
  }
  return false;
}

/**
 * AwsSolutions checks that also honour acknowledgements whose id contains {@link REF}. Everything
 * else (exact ids, the report, the failure on unacknowledged findings) is cdk-nag's own.
 */
export class StageAwsSolutionsChecks extends AwsSolutionsChecks {
  constructor(scope: IConstruct) {
    super(scope);
    const self = this as unknown as { isAcknowledged: (r: IConstruct, id: string) => boolean };
    const exact = self.isAcknowledged.bind(this);
    self.isAcknowledged = (r, id) => exact(r, id) || patternAcknowledged(r, id);
  }
}
