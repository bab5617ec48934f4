import * as fs from 'node:fs';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { addControlTowerGuard } from '../../lib/compliance/cfn-guard';
import { ComplianceReport, writeComplianceReports } from '../../lib/compliance/report';
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
});
