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
  // An app with a stack of its own (as the pipeline stack), two stages with packs of their own (as every
  // MigrationStage and PaymentCutoverStage has) and one without; each has findings.
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'nag-scope-')) });
  new sqs.Queue(new Stack(app, 'Pipeline'), 'Plain');
  const stages = ['Dev', 'Prod', 'Bare'].map((id) => {
    const stage = new Stage(app, id);
    new s3.Bucket(new Stack(stage, 'Storage'), 'Unlogged');
    return stage;
  });
  const [dev, prod, bare] = stages as [Stage, Stage, Stage];
  const devPack = new StageAwsSolutionsChecks(dev);
  const prodPack = new StageAwsSolutionsChecks(prod);
  const under =
    (...scopes: IConstruct[]) =>
    (f: string) =>
      scopes.some((s) => f.split(' ')[1]!.startsWith(`${s.node.path}/`));

  it("checks each resource once: each stage's pack that stage, the app's pack the rest", () => {
    const everything = findings(new AwsSolutionsChecks().validateScope(app));
    const appPack = findings(new StageAwsSolutionsChecks(app).validateScope(app));
    const perStage = [devPack, prodPack].map((pack, i) => findings(pack.validateScope(stages[i]!)));

    // The app's pack checks its own stacks and the stage without a pack, never a stage with one.
    expect(appPack.some(under(app.node.findChild('Pipeline')))).toBe(true);
    expect(appPack.some(under(bare))).toBe(true);
    expect(appPack.every(under(app.node.findChild('Pipeline'), bare))).toBe(true);
    expect(perStage[0]!.length).toBeGreaterThan(0);
    expect(perStage[0]!.every(under(dev))).toBe(true);
    expect(perStage[1]!.every(under(prod))).toBe(true);
    // Nothing lost and nothing checked twice: together they are what cdk-nag finds over the whole app.
    expect([...appPack, ...perStage.flat()].sort()).toEqual(everything);
  });

  it('lets the test helper see the findings of every stage below the scope it is given, once', () => {
    const all = unacknowledgedAwsSolutionsFindings(app);
    expect(all.some((f) => f.endsWith(' on Pipeline/Plain/Resource'))).toBe(true);
    expect(all.filter((f) => f.startsWith('AwsSolutions-S1 ')).sort()).toEqual(
      ['Bare', 'Dev', 'Prod'].map((s) => `AwsSolutions-S1 (error) on ${s}/Storage/Unlogged/Resource`),
    );
  });
});
