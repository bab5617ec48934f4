/**
 * Differential check of the cut-down copies cfn-guard reads (prints figures, asserts nothing): for every
 * Control Tower rule file the analysis does not call `unknown` (lib/compliance/guard-rule-reads.ts), builds
 * templates with one resource of each type the file names, their properties being the capitalised words of
 * the file with several kinds of values plus keys no rule names, beside a resource of a type no rule names;
 * runs cfn-guard over each whole template and over its projectRun copy, and compares the findings as the
 * plugin reports them (rule, resource, locations, success). Prints every difference and the counts.
 *
 *   npx tsx bench/cfn-guard-projection-fuzz.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { controlTowerRuleIndex, projectRun } from '../lib/compliance/cfn-guard';
import { ruleFileReads, tokenize } from '../lib/compliance/guard-rule-reads';

const index = controlTowerRuleIndex();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-fuzz-'));
const unnamed = {
  UnnamedA: '*',
  UnnamedB: { 'Fn::GetAtt': ['X', 'Arn'] },
  UnnamedC: ['0.0.0.0/0'],
  UnnamedD: true,
  UnnamedE: {},
};

function findings(rule: string, data: string): string {
  const report = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: [rule] }).validate({
    templatePaths: [data],
  } as never);
  const lines = report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId} ${[...r.locations].sort().join(',')}`),
  );
  return `${JSON.stringify(lines.sort())} ${report.success}`;
}

let files = 0;
let runs = 0;
let withFindings = 0;
let differences = 0;
for (const rule of index) {
  const reads = ruleFileReads(rule.file);
  if (reads === 'unknown' || rule.types.length === 0) continue;
  files++;
  const words = [...new Set(tokenize(fs.readFileSync(rule.file, 'utf8')).filter((t) => /^[A-Z][A-Za-z0-9]*$/.test(t)))];
  const variants: Record<string, unknown>[] = [
    Object.fromEntries(words.map((w) => [w, 'x'])),
    Object.fromEntries(words.map((w, i) => [w, i % 2 ? { Enabled: true } : ['a']])),
    Object.fromEntries(words.slice(0, 1).map((w) => [w, {}])),
    Object.fromEntries(words.map((w) => [w, true])),
    {},
  ];
  variants.forEach((properties, n) => {
    const resources: Record<string, object> = { Other: { Type: 'AWS::Unnamed::Type', Properties: { ...unnamed } } };
    rule.types.forEach((type, i) => (resources[`R${i}`] = { Type: type, Properties: { ...properties, ...unnamed } }));
    const template = path.join(dir, `${files}-${n}.json`);
    fs.writeFileSync(template, JSON.stringify({ AWSTemplateFormatVersion: '2010-09-09', Resources: resources }));
    const run = projectRun({ rules: [rule.file], templatePaths: [template] }, index);
    const whole = findings(rule.file, template);
    const cut = findings(rule.file, run.dataPaths?.[0] ?? template);
    runs++;
    if (!whole.startsWith('[]')) withFindings++;
    if (whole !== cut) {
      differences++;
      console.log(
        `DIFFERENT ${path.basename(rule.file)} (${reads}), template ${template}\n  whole ${whole}\n  cut   ${cut}`,
      );
    }
  });
}
console.log(
  `${files} rule files (keys or types), ${runs} templates, ${withFindings} with findings; differences: ${differences}`,
);
fs.rmSync(dir, { recursive: true, force: true });
