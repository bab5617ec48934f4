import { Stage } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { StageAwsSolutionsChecks } from '../../lib/compliance/nag';

/**
 * Every AwsSolutions finding (error or warning) in `scope` that no acknowledgement covers, checked
 * with the pack every Stage runs (so `…` acknowledgements of cross-stack references count), as
 * `rule (severity) on logical id or path`, so a failing test names what to fix. A stage with its own
 * pack is left to it, so `scope` is checked with one pack per stage it holds, all made before any runs.
 */
export function unacknowledgedAwsSolutionsFindings(scope: IConstruct): string[] {
  const stages = new Set([
    Stage.isStage(scope) ? scope : Stage.of(scope)!,
    ...scope.node.findAll().filter(Stage.isStage),
  ]);
  const packs = [...stages].map((stage) => new StageAwsSolutionsChecks(stage));
  return packs.flatMap((pack) =>
    pack
      .validateScope(scope)
      .violations.flatMap((v) =>
        v.violatingResources.map(
          (r) => `${v.ruleName} (${v.severity}) on ${r.resourceLogicalId ?? r.constructPath ?? '?'}`,
        ),
      ),
  );
}
