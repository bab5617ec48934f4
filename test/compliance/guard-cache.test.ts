import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { TypeScopedCfnGuardValidator } from '../../lib/compliance/cfn-guard';
import { GuardReportCache } from '../../lib/compliance/guard-cache';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

type Findings = { ruleName: string; violatingResources: { resourceLogicalId: string; templatePath: string }[] }[];
const findings = (violations: Findings) =>
  violations
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.templatePath} ${r.resourceLogicalId}`))
    .sort();

/** One stack with an unversioned bucket (several Control Tower findings), synthesized; its template path. */
function synthesizedTemplate(): { app: App; templatePath: string } {
  const app = new App({ outdir: tmp('guard-cache-app-') });
  const stack = new Stack(app, 'Cached');
  new s3.Bucket(stack, 'Unversioned');
  const assembly = app.synth();
  return { app, templatePath: path.join(assembly.directory, assembly.getStackByName('Cached').templateFile) };
}

describe('GuardReportCache', () => {
  const saved = { dir: process.env.CFN_GUARD_CACHE_DIR, off: process.env.CFN_GUARD_CACHE };
  afterEach(() => {
    for (const [k, v] of [
      ['CFN_GUARD_CACHE_DIR', saved.dir],
      ['CFN_GUARD_CACHE', saved.off],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('reuses a report for the same template bytes and runs cfn-guard again when the template changes', () => {
    process.env.CFN_GUARD_CACHE_DIR = tmp('guard-cache-');
    delete process.env.CFN_GUARD_CACHE;
    const { app, templatePath } = synthesizedTemplate();
    const context = { appConstruct: app, templatePaths: [templatePath] };
    const runs = jest.spyOn(CfnGuardValidator.prototype, 'validate');
    try {
      const cold = new TypeScopedCfnGuardValidator().validate(context);
      expect(runs).toHaveBeenCalled();
      expect(findings(cold.violations)).toContainEqual(expect.stringMatching(/^s3_bucket_versioning_enabled_check /));
      expect(fs.readdirSync(process.env.CFN_GUARD_CACHE_DIR)).not.toHaveLength(0);

      runs.mockClear();
      const warm = new TypeScopedCfnGuardValidator().validate(context);
      expect(runs).not.toHaveBeenCalled();
      expect(findings(warm.violations)).toEqual(findings(cold.violations));
      expect(warm.success).toBe(cold.success);

      // A second unversioned bucket in the same file (same resource types, so the same rule files): the
      // cached report must not answer.
      const template = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as { Resources: Record<string, unknown> };
      template.Resources.PlantedBucket = { Type: 'AWS::S3::Bucket', Properties: {} };
      fs.writeFileSync(templatePath, JSON.stringify(template));
      runs.mockClear();
      const changed = new TypeScopedCfnGuardValidator().validate(context);
      expect(runs).toHaveBeenCalled();
      expect(findings(changed.violations)).toContainEqual(
        `s3_bucket_versioning_enabled_check ${templatePath} PlantedBucket`,
      );
    } finally {
      runs.mockRestore();
    }
  });

  it('gives the report back with the templates where this synth wrote them', () => {
    process.env.CFN_GUARD_CACHE_DIR = tmp('guard-cache-');
    const first = synthesizedTemplate();
    const second = synthesizedTemplate(); // same bytes, another folder
    expect(fs.readFileSync(second.templatePath)).toEqual(fs.readFileSync(first.templatePath));
    new TypeScopedCfnGuardValidator().validate({ appConstruct: first.app, templatePaths: [first.templatePath] });
    const runs = jest.spyOn(CfnGuardValidator.prototype, 'validate');
    try {
      const hit = new TypeScopedCfnGuardValidator().validate({
        appConstruct: second.app,
        templatePaths: [second.templatePath],
      });
      expect(runs).not.toHaveBeenCalled();
      const paths = new Set(hit.violations.flatMap((v) => v.violatingResources.map((r) => r.templatePath)));
      expect([...paths]).toEqual([second.templatePath]);
    } finally {
      runs.mockRestore();
    }
  });

  it('is neither read nor written with CFN_GUARD_CACHE=off', () => {
    expect(GuardReportCache.fromEnvironment({ CFN_GUARD_CACHE: 'off' })).toBeUndefined();
    const dir = tmp('guard-cache-');
    process.env.CFN_GUARD_CACHE_DIR = dir;
    process.env.CFN_GUARD_CACHE = 'off';
    const app = new App({ outdir: tmp('guard-cache-app-') });
    new sqs.Queue(new Stack(app, 'Off'), 'Queue');
    const assembly = app.synth();
    const templatePath = path.join(assembly.directory, assembly.getStackByName('Off').templateFile);
    new TypeScopedCfnGuardValidator().validate({ appConstruct: app, templatePaths: [templatePath] });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('keys on every rule file and ignores an entry it cannot read', () => {
    const cache = new GuardReportCache(tmp('guard-cache-'));
    const dir = tmp('guard-cache-rules-');
    const template = path.join(dir, 't.json');
    fs.writeFileSync(template, '{"Resources":{}}');
    const [a, b] = ['a.guard', 'b.guard'].map((n) => path.join(dir, n)) as [string, string];
    fs.writeFileSync(a, 'rule a { }');
    fs.writeFileSync(b, 'rule b { }');
    expect(cache.key([a], [template])).not.toEqual(cache.key([a, b], [template]));

    const key = cache.key([a], [template]);
    const report = {
      success: false,
      violations: [
        {
          ruleName: 'r',
          description: 'd',
          violatingResources: [{ resourceLogicalId: 'X', templatePath: template, locations: ['/Resources/X'] }],
        },
      ],
    };
    cache.set(key, [template], report);
    expect(cache.get(key, [template])).toEqual(report);
    fs.writeFileSync(path.join(cache.dir, `${key}.json`), '{ not json');
    expect(cache.get(key, [template])).toBeUndefined();
  });
});
