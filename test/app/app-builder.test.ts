import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app-builder';
import { TypeScopedCfnGuardValidator } from '../../lib/compliance/cfn-guard';
import { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import { MigrationStage } from '../../stages/migration-stage';
import { CDK_JSON_CONTEXT, STACK_IDS } from '../support/stage-fixture';

const app = (context: Record<string, unknown>) =>
  buildApp({ context: { ...CDK_JSON_CONTEXT, cfnGuard: 'false', ...context } });
const stagesOf = (scope: { node: { findAll(): unknown[] } }) =>
  scope.node.findAll().filter((c): c is Stage => Stage.isStage(c));

describe('buildApp', () => {
  it('builds the pipeline with dev, staging and prod by default, adding the Control Tower rules to each stage as the pipeline adds it, once its templates are final', () => {
    // Stubbed: the runs themselves are tested in test/compliance; here only when they start.
    const started: [string, boolean][] = [];
    const startRuns = jest.spyOn(TypeScopedCfnGuardValidator.prototype, 'startRuns').mockImplementation(function (
      this: TypeScopedCfnGuardValidator,
    ) {
      // CDK Pipelines has synthesized the stage: its manifest is written in the app's fresh outdir.
      started.push([this.stage!.stageName, fs.existsSync(path.join(this.stage!.outdir, 'manifest.json'))]);
    });
    try {
      const a = app({ cfnGuard: 'true' });
      // startRuns is called only by addControlTowerGuard, after it added the validator to the stage.
      expect(started).toEqual(
        ['Dev', 'DevPayment', 'Staging', 'StagingPayment', 'Prod', 'ProdPayment'].map((n) => [n, true]),
      );
      expect(stagesOf(a).filter((s) => s !== a)).toHaveLength(6);
      const pipeline = a.node.findChild('Pipeline') as PipelineStack;
      expect(pipeline).toBeInstanceOf(PipelineStack);
      expect(pipeline.stages.map((s) => s.stageName)).toEqual(['Dev', 'Staging', 'Prod']);
    } finally {
      startRuns.mockRestore();
    }
  });

  it('builds one uniquely named sandbox stage with -c sandbox=<name>', () => {
    const a = app({ sandbox: 'alice' });
    const stages = stagesOf(a).filter((s) => s !== a);
    expect(stages.map((s) => s.stageName)).toEqual(['Sandbox-alice']);
    const stackNames = stages[0]!.node.children.filter((c): c is Stack => c instanceof Stack).map((s) => s.stackName);
    expect(stackNames.sort()).toEqual(STACK_IDS.map((id) => `Sandbox-alice-${id}`).sort());
    expect(a.node.tryFindChild('Pipeline')).toBeUndefined();
  });

  it('uses another environment config for a sandbox with -c env=', () => {
    const a = app({ sandbox: 'bob', env: 'staging' });
    const [stage] = stagesOf(a).filter((s) => s !== a) as [MigrationStage];
    expect(stage.stageName).toBe('Sandbox-bob');
    // staging sizing (provisioned r6g.large), not dev's Serverless v2
    const instances = Template.fromStack(stage.database).findResources('AWS::RDS::DBInstance');
    expect(Object.values(instances).map((r: any) => r.Properties.DBInstanceClass)).toEqual([
      'db.r6g.large',
      'db.r6g.large',
    ]);
  });

  it('refuses a sandbox name that could collide or break resource names', () => {
    expect(() => app({ sandbox: 'Alice_1' })).toThrow(/sandbox: expected 2-15 lowercase letters/);
  });

  it('refuses the activation attempt as a context key: it comes from committed config, so every synth agrees', () => {
    expect(() => app({ dataSyncActivationAttempt: '2' })).toThrow(
      /dataSyncActivationAttempt: no longer read from the command line or cdk\.json; set dataSync\.activationAttempt/,
    );
    expect(() => app({ sandbox: 'alice', dataSyncActivationAttempt: '2' })).toThrow(/set dataSync\.activationAttempt/);
  });

  it('refuses a malformed account before building anything', () => {
    expect(() => app({ prodAccount: '12345' })).toThrow(/prod\.account: expected a 12-digit AWS account id/);
  });
});
