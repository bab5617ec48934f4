import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { StageAwsSolutionsChecks } from '../../lib/compliance/nag';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';

const findings = (report: { violations: { ruleName: string; violatingResources: { constructPath?: string }[] }[] }) =>
  report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)).sort();

describe('StageAwsSolutionsChecks', () => {
  // An app with a stack of its own (as the pipeline stack) and two stages with findings of their own.
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'nag-scope-')) });
  new sqs.Queue(new Stack(app, 'Pipeline'), 'Plain');
  const stages = ['Dev', 'Prod'].map((id) => {
    const stage = new Stage(app, id);
    new s3.Bucket(new Stack(stage, 'Storage'), 'Bare');
    return stage;
  });
  const under = (scope: IConstruct) => (f: string) => f.split(' ')[1]!.startsWith(`${scope.node.path}/`);

  it("checks each resource once: the app's pack its own stacks, each stage's pack that stage", () => {
    const everything = findings(new AwsSolutionsChecks().validateScope(app));
    const appOnly = findings(new StageAwsSolutionsChecks(app).validateScope(app));
    const perStage = stages.map((s) => findings(new StageAwsSolutionsChecks(s).validateScope(app)));

    expect(appOnly.length).toBeGreaterThan(0);
    expect(appOnly.every(under(app.node.findChild('Pipeline')))).toBe(true);
    stages.forEach((stage, i) => {
      expect(perStage[i]!.length).toBeGreaterThan(0);
      expect(perStage[i]!.every(under(stage))).toBe(true);
    });
    // Nothing lost and nothing checked twice: together they are what cdk-nag finds over the whole app.
    expect([...appOnly, ...perStage.flat()].sort()).toEqual(everything);
  });

  it('lets the test helper see the findings of every stage below the scope it is given', () => {
    const all = unacknowledgedAwsSolutionsFindings(app);
    expect(all.some((f) => f.endsWith(' on Pipeline/Plain/Resource'))).toBe(true);
    expect(all.filter((f) => f.startsWith('AwsSolutions-S1 ')).length).toBe(2);
  });
});
