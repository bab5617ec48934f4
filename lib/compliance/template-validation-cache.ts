import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  App,
  CloudFormationValidatePlugin,
  IPolicyValidationContext,
  PolicyValidationPluginReport,
  PolicyValidationStack,
  Validations,
} from 'aws-cdk-lib';
import { CloudAssembly, UNKNOWN_ACCOUNT, UNKNOWN_REGION } from 'aws-cdk-lib/cx-api';
import { whileGuardRuns } from './cfn-guard';
import { digest, ReportCache } from './guard-cache';

type Violation = PolicyValidationPluginReport['violations'][number];

/** aws-cdk-lib's version: it ships the template validator's engine, its schemas and its rules. */
const CDK_VERSION: string = (
  JSON.parse(fs.readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')) as { version: string }
).version;

/**
 * Per-template reports of aws-cdk-lib's CloudFormation template validation, by content. What the
 * validator says about a template depends on the template's bytes, the stack's account, region and
 * construct path (the pseudo parameters it resolves, and where a template-level finding points) and the
 * validator (aws-cdk-lib's version and the engine's), so those are the key. Acknowledgements are applied
 * by aws-cdk-lib afterwards and are not part of a report.
 *
 * Where: `TEMPLATE_VALIDATION_CACHE_DIR`, default `node_modules/.cache/template-validation` of this
 * project; `TEMPLATE_VALIDATION_CACHE=off` leaves aws-cdk-lib's own plugin in place.
 */
export class TemplateValidationCache extends ReportCache {
  /** The cache the environment asks for, or undefined when it is switched off. */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): TemplateValidationCache | undefined {
    if (env.TEMPLATE_VALIDATION_CACHE === 'off') return undefined;
    return new TemplateValidationCache(
      env.TEMPLATE_VALIDATION_CACHE_DIR ??
        path.resolve(__dirname, '..', '..', 'node_modules', '.cache', 'template-validation'),
    );
  }

  key(stack: PolicyValidationStack, engineVersion: string | undefined): string {
    return digest(
      JSON.stringify([
        'entry v1',
        CDK_VERSION,
        engineVersion ?? '',
        stack.stackConstructPath,
        stack.accountId ?? '',
        stack.region ?? '',
        digest(fs.readFileSync(stack.templatePath)),
      ]),
    );
  }
}

/**
 * aws-cdk-lib's CloudFormation template validation with the same engine, rules and findings, evaluated
 * only for templates whose report is not cached. It runs the validator once over all uncached templates
 * (one engine for their resource types, as aws-cdk-lib does), splits the findings by template for the
 * cache, and merges every template's findings back in the order aws-cdk-lib would have produced them.
 * Registered on the App it replaces the default instance (aws-cdk-lib allows one, at App level), and
 * aws-cdk-lib treats it as its own: its errors are downgraded to warnings exactly as the default's.
 */
export class CachedTemplateValidation extends CloudFormationValidatePlugin {
  constructor(readonly cache: TemplateValidationCache) {
    super();
  }

  override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const stacks = context.stackTemplates;
    const engineVersion = this.version;
    const entries = stacks.map((stack) => {
      const key = this.cache.key(stack, engineVersion);
      return {
        stack,
        key,
        violations: this.cache.get<PolicyValidationPluginReport>(key, [stack.templatePath])?.violations,
      };
    });
    const missing = entries.filter((e) => e.violations === undefined);
    if (missing.length > 0) {
      const fresh = super.validate({
        ...context,
        templatePaths: missing.map((e) => e.stack.templatePath),
        stackTemplates: missing.map((e) => e.stack),
      });
      // aws-cdk-lib's plugin names the template of every finding; were one without, the report could not
      // be split by template, so it is evaluated whole and nothing is cached.
      if (fresh.violations.some((v) => v.violatingResources.some((r) => !r.templatePath))) {
        return missing.length === stacks.length ? fresh : super.validate(context);
      }
      const split = splitByTemplate(fresh.violations);
      for (const e of missing) {
        e.violations = split.get(e.stack.templatePath) ?? [];
        this.cache.set(e.key, [e.stack.templatePath], report(e.violations));
      }
    }
    return report(mergeInOrder(entries.map((e) => e.violations!)));
  }

  /**
   * Validates every template of the app's written cloud assembly now and caches the reports, so that the
   * App-level validation, which aws-cdk-lib calls after every stage's plugins, finds them all cached. The
   * cfn-guard validator calls this while its worker threads run (see whileGuardRuns in cfn-guard.ts), so
   * the two checks share the cores instead of the template validation running alone at the end.
   * The stacks are described as aws-cdk-lib describes them to the plugin; were one described otherwise,
   * its key would differ and the App-level call would validate it again, so the findings never depend on this.
   */
  prevalidate(app: App): void {
    const stacks = new CloudAssembly(app.outdir, { skipVersionCheck: true }).stacksRecursively.map(
      (s): PolicyValidationStack => ({
        stackConstructPath: s.hierarchicalId,
        templatePath: s.templateFullPath,
        accountId: s.environment.account !== UNKNOWN_ACCOUNT ? s.environment.account : undefined,
        region: s.environment.region !== UNKNOWN_REGION ? s.environment.region : undefined,
      }),
    );
    if (stacks.length === 0) return;
    this.validate({ appConstruct: app, templatePaths: stacks.map((s) => s.templatePath), stackTemplates: stacks });
  }
}

/** A report of these findings: failed when one is an error, as aws-cdk-lib's plugin decides. */
function report(violations: Violation[]): PolicyValidationPluginReport {
  return { success: violations.every((v) => v.severity !== 'error' && v.severity !== 'fatal'), violations };
}

/** Each template's part of a report: a finding keeps only that template's resources. */
function splitByTemplate(violations: readonly Violation[]): Map<string, Violation[]> {
  const out = new Map<string, Violation[]>();
  for (const v of violations) {
    const byTemplate = new Map<string, Violation['violatingResources'][number][]>();
    for (const r of v.violatingResources) {
      byTemplate.set(r.templatePath!, [...(byTemplate.get(r.templatePath!) ?? []), r]);
    }
    for (const [template, resources] of byTemplate) {
      out.set(template, [...(out.get(template) ?? []), { ...v, violatingResources: resources }]);
    }
  }
  return out;
}

/**
 * One report from per-template parts, template by template: a finding with the rule, severity and
 * description of an earlier one joins it, as aws-cdk-lib's plugin groups them while it walks the templates.
 */
function mergeInOrder(parts: readonly (readonly Violation[])[]): Violation[] {
  const merged: Violation[] = [];
  for (const part of parts) {
    for (const v of part) {
      const same = merged.find(
        (m) => m.ruleName === v.ruleName && m.severity === v.severity && m.description === v.description,
      );
      if (same) same.violatingResources.push(...v.violatingResources);
      else merged.push({ ...v, violatingResources: [...v.violatingResources] });
    }
  }
  return merged;
}

let shared: CachedTemplateValidation | undefined;

/**
 * Registers the cached template validation on the app when aws-cdk-lib would run its own (the App's
 * `builtinCloudFormationValidation` and `CDK_VALIDATION` allow it) and the cache is not switched off.
 * One instance per process, like aws-cdk-lib's, so its engine is built once. Says whether it registered.
 */
export function addCachedTemplateValidation(app: App, builtinValidation = true): boolean {
  const cache = TemplateValidationCache.fromEnvironment();
  if (!cache || !builtinValidation || process.env.CDK_VALIDATION === 'false') return false;
  if (!shared || shared.cache.dir !== cache.dir) shared = new CachedTemplateValidation(cache);
  Validations.of(app).addPlugins(shared);
  const plugin = shared;
  whileGuardRuns(app, () => plugin.prevalidate(app));
  return true;
}
