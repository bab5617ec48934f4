import { type IPolicyValidationContext, type PolicyValidationPluginReport, Stage, Validations } from 'aws-cdk-lib';
import {
  AwsSolutionsChecks,
  IApplyRule,
  NagPack,
  NagRuleCompliance,
  NIST80053R5Checks,
  PCIDSS321Checks,
} from 'cdk-nag';
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
 * The rule of `params` with findings that a {@link REF} acknowledgement covers taken out, so cdk-nag's own
 * (exact) acknowledgement check never sees them. Goes through `applyRule`, the extension point cdk-nag offers
 * custom packs; the rule id is fixed first because wrapping the rule changes its function name.
 */
function withPatternAcknowledgements(params: IApplyRule, packName: string): IApplyRule {
  const suffix = params.ruleSuffixOverride ?? params.rule.name;
  const ruleId = `${packName}-${suffix}`;
  const rule = params.rule;
  return {
    ...params,
    ruleSuffixOverride: suffix,
    rule: (node) => {
      let result: ReturnType<IApplyRule['rule']>;
      try {
        result = rule(node);
      } catch (error) {
        if (patternAcknowledged(params.node, ruleId)) return NagRuleCompliance.COMPLIANT;
        throw error;
      }
      if (Array.isArray(result)) return result.filter((f) => !patternAcknowledged(params.node, `${ruleId}[${f}]`));
      if (result === NagRuleCompliance.NON_COMPLIANT && patternAcknowledged(params.node, ruleId)) {
        return NagRuleCompliance.COMPLIANT;
      }
      return result;
    },
  };
}

/** The pack names made for each stage: a stage's resources are left to its own pack of that name. */
const stagePacks = new WeakMap<IConstruct, Set<string>>();

/**
 * A pack that also honours {@link REF} acknowledgements and checks only the construct it was created for: the
 * validation framework hands every plugin the whole app, and the payment packs must not judge the migration
 * stages deployed next to the payment stage. Below its scope, it leaves out the resources of a nested stage
 * that was given its own pack of the same name (every MigrationStage and PaymentCutoverStage): cdk-nag walks
 * every construct, nested stages included, so the app's pack would check each of them a second time.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a class factory's base must take `any[]`
function scopedStagePack<B extends new (...args: any[]) => NagPack>(Base: B) {
  abstract class ScopedStagePack extends Base {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the mixin constructor TypeScript requires
    constructor(...args: any[]) {
      super(...args);
      this.checked = args[0] as IConstruct;
      if (Stage.isStage(this.checked)) {
        stagePacks.set(this.checked, (stagePacks.get(this.checked) ?? new Set()).add(this.packName));
      }
    }

    private readonly checked: IConstruct;

    protected override applyRule(params: IApplyRule): void {
      const stage = Stage.of(params.node);
      const home = Stage.isStage(this.checked) ? this.checked : Stage.of(this.checked);
      if (stage && stage !== home && stagePacks.get(stage)?.has(this.packName)) return;
      super.applyRule(withPatternAcknowledgements(params, this.packName));
    }

    override validate(_context: IPolicyValidationContext): PolicyValidationPluginReport {
      return this.validateScope(this.checked);
    }
  }
  return ScopedStagePack;
}

/**
 * AwsSolutions checks of the construct they are created for (a stage, or the app: its own stacks, such as the
 * pipeline, and any stage without a pack of its own), honouring {@link REF} acknowledgements; everything else
 * (exact ids, the report, the failure on unacknowledged findings) is cdk-nag's own. Scoped, so no resource is
 * checked by two AwsSolutions packs.
 */
export class StageAwsSolutionsChecks extends scopedStagePack(AwsSolutionsChecks) {}

/** PCI DSS 3.2.1 checks for the payment stage, scoped to it and pattern-aware. */
export class StagePciDss321Checks extends scopedStagePack(PCIDSS321Checks) {}

/** NIST 800-53 rev 5 checks for the payment stage, scoped to it and pattern-aware. */
export class StageNist80053R5Checks extends scopedStagePack(NIST80053R5Checks) {}

/**
 * Action groups that aws-cdk-lib's bucket and key grants (`grantRead`, `grantPut`,
 * `grantReadWrite`, `grantDelete`, `grantEncryptDecrypt`) write with a wildcard. The grant itself
 * limits them to the named prefix or key; the finding is acknowledged per action group.
 */
export const GRANT_ACTION_GROUPS = [
  'Action::s3:GetObject*',
  'Action::s3:GetBucket*',
  'Action::s3:List*',
  'Action::s3:DeleteObject*',
  'Action::s3:Abort*',
  'Action::kms:ReEncrypt*',
  'Action::kms:GenerateDataKey*',
] as const;

/** Acknowledges the grant action groups on one role (or construct), saying what the grants are scoped to. */
export function acknowledgeGrantActionGroups(scope: IConstruct, scopedTo: string): void {
  Validations.of(scope).acknowledge(
    ...GRANT_ACTION_GROUPS.map((finding) => ({
      id: `AwsSolutions-IAM5[${finding}]`,
      reason: `Action group written by aws-cdk-lib's bucket/key grants; the statements are limited to ${scopedTo}.`,
    })),
  );
}
