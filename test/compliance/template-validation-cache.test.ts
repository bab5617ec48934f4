import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, CloudFormationValidatePlugin, IPolicyValidationContext, Stack } from 'aws-cdk-lib';
import {
  addCachedTemplateValidation,
  CachedTemplateValidation,
  TemplateValidationCache,
} from '../../lib/compliance/template-validation-cache';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/**
 * Two stacks whose templates aws-cdk-lib's validator finds fault with: misspelled and out-of-range
 * properties, and the same finding in both templates (which one report groups into one violation).
 */
function faultyApp(): { context: IPolicyValidationContext } {
  const app = new App({ outdir: tmp('tv-cache-app-'), builtinCloudFormationValidation: false });
  const a = new Stack(app, 'A', { env: { account: '111111111111', region: 'eu-west-1' } });
  new CfnResource(a, 'Typo', { type: 'AWS::S3::Bucket', properties: { BucketNam: 'a' } });
  new CfnResource(a, 'Retention', { type: 'AWS::Logs::LogGroup', properties: { RetentionInDays: 13 } });
  const b = new Stack(app, 'B', { env: { account: '111111111111', region: 'eu-west-1' } });
  new CfnResource(b, 'Typo', { type: 'AWS::S3::Bucket', properties: { BucketNam: 'b' } });
  const assembly = app.synth();
  const stackTemplates = assembly.stacks.map((s) => ({
    stackConstructPath: s.hierarchicalId,
    templatePath: path.join(assembly.directory, s.templateFile),
    accountId: '111111111111',
    region: 'eu-west-1',
  }));
  return {
    context: { templatePaths: stackTemplates.map((s) => s.templatePath), stackTemplates, appConstruct: app },
  };
}

describe('CachedTemplateValidation', () => {
  const { context } = faultyApp();
  const expected = new CloudFormationValidatePlugin().validate(context);
  // One validator (one engine, which takes seconds to build) whose cache the tests fill; a new instance
  // over the same cache stands for the next synth, and needs no engine as long as everything hits.
  const cache = new TemplateValidationCache(tmp('tv-cache-'));
  const validator = new CachedTemplateValidation(cache);

  it('has findings to compare (the fixture is faulty in both templates)', () => {
    expect(expected.violations.length).toBeGreaterThan(1);
    const templates = new Set(expected.violations.flatMap((v) => v.violatingResources.map((r) => r.templatePath)));
    expect(templates.size).toBe(2);
  });

  it('reports exactly what aws-cdk-lib reports, evaluated on a miss and read back on a hit', () => {
    const engine = jest.spyOn(CloudFormationValidatePlugin.prototype, 'validate');
    try {
      expect(validator.validate(context)).toEqual(expected);
      expect(engine).toHaveBeenCalledTimes(1);
      engine.mockClear();

      // A new instance (a new synth) over the same templates: nothing is evaluated again.
      expect(new CachedTemplateValidation(cache).validate(context)).toEqual(expected);
      expect(engine).not.toHaveBeenCalled();
    } finally {
      engine.mockRestore();
    }
  });

  it('gives a hit back with the paths of this synth, and evaluates a changed template again', () => {
    validator.validate(context); // fills the cache when this test runs alone

    // The same templates written elsewhere, as the next synth writes them: the same findings, with these paths.
    const outdir = tmp('tv-cache-moved-');
    const movedPath = (p: string) => path.join(outdir, path.basename(p));
    const stackTemplates = context.stackTemplates.map((st) => {
      fs.copyFileSync(st.templatePath, movedPath(st.templatePath));
      return { ...st, templatePath: movedPath(st.templatePath) };
    });
    const moved = {
      context: { ...context, templatePaths: stackTemplates.map((st) => st.templatePath), stackTemplates },
    };
    const expectedMoved = {
      ...expected,
      violations: expected.violations.map((v) => ({
        ...v,
        violatingResources: v.violatingResources.map((r) => ({ ...r, templatePath: movedPath(r.templatePath!) })),
      })),
    };
    const engine = jest.spyOn(CloudFormationValidatePlugin.prototype, 'validate');
    try {
      expect(new CachedTemplateValidation(cache).validate(moved.context)).toEqual(expectedMoved);
      expect(engine).not.toHaveBeenCalled();

      // One byte more in B's template: B is evaluated again, A still comes from the cache.
      const b = moved.context.stackTemplates.find((s) => s.stackConstructPath === 'B')!;
      fs.appendFileSync(b.templatePath, '\n');
      validator.validate(moved.context);
      expect(engine).toHaveBeenCalledTimes(1);
      const given = engine.mock.calls[0]![0];
      expect(given.stackTemplates.map((s) => s.stackConstructPath)).toEqual(['B']);
    } finally {
      engine.mockRestore();
    }
  });

  it('validates the written assembly ahead, described as aws-cdk-lib describes it, so its own call evaluates nothing', () => {
    // The engine answers with aws-cdk-lib's report of the whole app; what is tested is that the stacks
    // prevalidate reads from the assembly get the keys of the stacks aws-cdk-lib hands the plugin.
    const engine = jest.spyOn(CloudFormationValidatePlugin.prototype, 'validate').mockReturnValue(expected);
    try {
      const ahead = new CachedTemplateValidation(new TemplateValidationCache(tmp('tv-cache-ahead-')));
      ahead.prevalidate(context.appConstruct as App);
      expect(engine).toHaveBeenCalledTimes(1);
      expect(engine.mock.calls[0]![0].stackTemplates).toEqual(context.stackTemplates);
      engine.mockClear();
      expect(ahead.validate(context)).toEqual(expected);
      expect(engine).not.toHaveBeenCalled();
    } finally {
      engine.mockRestore();
    }
  });

  it('keys on account and region too (the validator resolves pseudo parameters with them)', () => {
    const [stack] = context.stackTemplates;
    expect(cache.key(stack!, 'v')).not.toBe(cache.key({ ...stack!, region: 'us-east-1' }, 'v'));
    expect(cache.key(stack!, 'v')).not.toBe(cache.key({ ...stack!, accountId: '222222222222' }, 'v'));
    expect(cache.key(stack!, 'v')).not.toBe(cache.key(stack!, 'w'));
    expect(cache.key(stack!, 'v')).toBe(cache.key({ ...stack! }, 'v'));
  });
});

describe('addCachedTemplateValidation', () => {
  const saved = { ...process.env };
  afterEach(() => {
    jest.restoreAllMocks();
    for (const k of ['CDK_VALIDATION', 'TEMPLATE_VALIDATION_CACHE', 'TEMPLATE_VALIDATION_CACHE_DIR']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  /** Synthesizes an app with the cached validation added as buildApp adds it; the cache folder's entries. */
  function entriesAfterSynth(): string[] {
    // The validator's warnings about the planted typo are expected; keep them out of the test output.
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const dir = tmp('tv-cache-app-');
    process.env.TEMPLATE_VALIDATION_CACHE_DIR = dir;
    const app = new App({ outdir: tmp('tv-cache-out-') });
    addCachedTemplateValidation(app);
    new CfnResource(new Stack(app, 'S'), 'Typo', { type: 'AWS::S3::Bucket', properties: { BucketNam: 'a' } });
    app.synth();
    return fs.readdirSync(dir);
  }

  it('takes the place of the built-in validation in a synth', () => {
    process.env.CDK_VALIDATION = 'true';
    expect(entriesAfterSynth()).toHaveLength(1);
  });

  it('stays out when validation is off or the cache is switched off', () => {
    const app = () => new App({ outdir: tmp('tv-cache-out-') });
    process.env.CDK_VALIDATION = 'false';
    expect(addCachedTemplateValidation(app())).toBe(false);
    process.env.CDK_VALIDATION = 'true';
    expect(addCachedTemplateValidation(app(), false)).toBe(false);
    process.env.TEMPLATE_VALIDATION_CACHE = 'off';
    expect(addCachedTemplateValidation(app())).toBe(false);
    delete process.env.TEMPLATE_VALIDATION_CACHE;
    expect(addCachedTemplateValidation(app())).toBe(true);
  });
});
