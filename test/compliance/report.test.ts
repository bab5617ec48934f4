import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  addControlTowerGuard,
  controlTowerRuleIndex,
  GuardRun,
  GuardRunPool,
  planGuardRuns,
  projectRun,
  restoreTemplatePaths,
} from '../../lib/compliance/cfn-guard';
import { ComplianceReport, validationViolations, writeComplianceReports } from '../../lib/compliance/report';
import { MigrationStage } from '../../stages/migration-stage';
import { newApp } from '../support/stage-fixture';

describe('compliance reports', () => {
  const app = newApp();
  const config = loadEnvironmentConfig('staging', () => undefined, {});
  const stage = new MigrationStage(app, 'Staging', { config, env: { region: config.region } });
  addControlTowerGuard(stage);
  app.synth(); // throws on any unacknowledged AwsSolutions or Control Tower finding
  const files = writeComplianceReports(app, true);
  const report = JSON.parse(
    fs.readFileSync(
      files.find((f) => f.endsWith('Staging.json'))!,
      'utf8',
    ),
  ) as ComplianceReport;

  it('leaves no finding of either rule pack in the validation report', () => {
    const validation = JSON.parse(fs.readFileSync(`${app.outdir}/validation-report.json`, 'utf8')) as {
      pluginReports: { violations: unknown[] }[];
    };
    expect(validation.pluginReports.flatMap((r) => r.violations)).toEqual([]);
    expect(validationViolations(app)).toBe(0);
  });

  it('writes one report per stage into the cloud assembly', () => {
    expect(files.map((f) => f.split('/').pop())).toEqual(['Staging.json', 'app.json']);
    expect(files.every((f) => f.startsWith(app.outdir))).toBe(true);
  });

  it('records both rule packs and zero unacknowledged findings', () => {
    expect(report.checks).toEqual(['cdk-nag AwsSolutions', 'cfn-guard AWS Control Tower proactive controls']);
    expect(report.unacknowledgedFindings).toBe(0);
    // Control Tower acknowledgements are made resource by resource, like the cdk-nag ones.
    const guard = report.acknowledgements.filter((a) => a.rule.startsWith('cdk-validator-cfnguard::'));
    expect(guard.length).toBeGreaterThan(10);
    expect(guard.every((a) => a.path.split('/').length >= 3 && /^CT\.[A-Z0-9]+\.PR\.\d+: /.test(a.reason))).toBe(true);
  });

  it('names a resource and a real reason for every acknowledgement', () => {
    expect(report.acknowledgements.length).toBeGreaterThan(20);
    for (const a of report.acknowledgements) {
      // Ours are scoped below a stack, never the stage or a whole stack. (aws-cdk-lib itself
      // acknowledges one CloudFormation-Validate warning on stacks that list literal AZs.)
      if (a.rule.startsWith('AwsSolutions-')) expect(a.path.split('/').length).toBeGreaterThanOrEqual(3);
      expect(a.reason.length).toBeGreaterThan(30);
    }
  });

  it('never acknowledges a bare IAM5 rule (findings are acknowledged one by one)', () => {
    expect(report.acknowledgements.filter((a) => a.rule === 'AwsSolutions-IAM5')).toEqual([]);
  });

  it("gets from cfn-guard the same findings over the cut-down copies as over the stage's whole templates", () => {
    const index = controlTowerRuleIndex();
    const templates = fs
      .readdirSync(stage.outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => path.join(stage.outdir, f));
    const plan = planGuardRuns(
      templates.map((p) => {
        const t = JSON.parse(fs.readFileSync(p, 'utf8')) as { Resources?: Record<string, { Type: string }> };
        return { path: p, types: new Set(Object.values(t.Resources ?? {}).map((r) => r.Type)) };
      }),
      index,
    );
    // Findings as the plugin parses them (rule, template, resource, locations), with or without the copies.
    const findings = (cutDown: boolean) =>
      plan
        .flatMap((whole) => {
          const run: GuardRun = cutDown ? projectRun(whole, index) : whole;
          const report = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: run.rules }).validate({
            templatePaths: run.dataPaths ?? run.templatePaths,
          } as never);
          return restoreTemplatePaths(run, report).violations.flatMap((v) =>
            v.violatingResources.map((r) =>
              [v.ruleName, r.templatePath, r.resourceLogicalId, [...r.locations].sort().join(',')].join(' '),
            ),
          );
        })
        .sort();
    const whole = findings(false);
    // The stage's acknowledged findings are still findings here (acknowledgements apply later).
    expect(whole.length).toBeGreaterThan(20);
    expect(findings(true)).toEqual(whole);
  });
});

describe('Control Tower rules reach the stacks inside the stage', () => {
  // As a sandbox adds them (before synthesis, runs evaluated at validation), and as the pipeline does:
  // after CDK Pipelines synthesized the stage, with its runs started in the worker pool at once.
  it.each([
    ['added before synthesis', false],
    ['started as the pipeline adds the stage', true],
  ])('reports a planted violation on the resource that has it, and only there (%s)', (_, early) => {
    const app = newApp();
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    const stage = new MigrationStage(app, 'Planted', { config, env: { region: config.region } });
    const bucket = new s3.Bucket(stage.storage, 'Unversioned', {
      enforceSSL: true,
      encryption: s3.BucketEncryption.KMS_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'test: a planted bucket without access logs' });
    const pooled = jest.spyOn(GuardRunPool.prototype, 'add');
    const exitCode = process.exitCode;
    const saved = { CFN_GUARD_WORKERS: process.env.CFN_GUARD_WORKERS, CFN_GUARD_CACHE: process.env.CFN_GUARD_CACHE };
    process.env.CFN_GUARD_WORKERS = '1';
    // The first case would leave every run in the report cache, which answers before any pool.
    process.env.CFN_GUARD_CACHE = 'off';
    try {
      if (early) stage.synth();
      addControlTowerGuard(stage, undefined, { startRuns: early });
      // Started early, the stage's runs are in the pool before the app is synthesized.
      const before = pooled.mock.calls.flatMap(([runs]) => runs).length;
      if (early) expect(before).toBeGreaterThan(0);
      else expect(before).toBe(0);
      // cfn-guard findings land in the validation report (which fails `cdk synth`) instead of throwing.
      app.synth();
      const validation = JSON.parse(fs.readFileSync(`${app.outdir}/validation-report.json`, 'utf8')) as {
        pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
      };
      const violations = validation.pluginReports.flatMap((r) => r.violations);
      const versioning = violations.find((v) => v.ruleName === 's3_bucket_versioning_enabled_check');
      expect(versioning?.violatingConstructs.map((c) => c.constructPath)).toEqual([
        'Planted/Storage/Unversioned/Resource',
      ]);
    } finally {
      process.exitCode = exitCode;
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      pooled.mockRestore();
    }
  });
});
