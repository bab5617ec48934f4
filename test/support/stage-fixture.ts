import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EnvName } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { MigrationStage } from '../../stages/migration-stage';

export interface SynthesizedStage {
  readonly stage: MigrationStage;
  /** Template of each stack by its id inside the stage (`Network`, `Storage`, ...). */
  readonly templates: Record<string, Template>;
}

/** The eleven stacks of a MigrationStage, by construct id. */
export const STACK_IDS = [
  'Network',
  'Storage',
  'Messaging',
  'Logging',
  'DataSync',
  'Database',
  'Dms',
  'Glue',
  'Orchestration',
  'Lambda',
  'Monitoring',
] as const;

const cache = new Map<string, SynthesizedStage>();

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

/** An App configured like the real one (feature flags from cdk.json), writing to a temp dir. */
export function newApp(context: Record<string, unknown> = {}): App {
  return new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-')),
    context: { ...CDK_JSON_CONTEXT, ...context },
  });
}

/**
 * Synthesizes one MigrationStage with the committed config of `env` (no account: offline) and cdk-nag
 * on. Synthesis throws if any nag finding is unacknowledged, so every test that uses this fixture
 * also proves the stage is clean. Memoized per test file.
 */
export function synthStage(env: EnvName, opts: { account?: string } = {}): SynthesizedStage {
  const key = `${env}:${opts.account ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const app = newApp();
  const config = loadEnvironmentConfig(
    env,
    () => undefined,
    opts.account ? { [`${env.toUpperCase()}_ACCOUNT`]: opts.account } : {},
  );
  const stage = new MigrationStage(app, 'Test', {
    config,
    env: config.account ? { account: config.account, region: config.region } : { region: config.region },
  });
  app.synth();
  const templates: Record<string, Template> = {};
  for (const child of stage.node.children) {
    if (child instanceof Stack) templates[child.node.id] = Template.fromStack(child);
  }
  const result = { stage, templates };
  cache.set(key, result);
  return result;
}

/** Replaces asset hashes and bundle keys so snapshots change only when the template does. */
export function stripHashes(template: unknown): unknown {
  return JSON.parse(
    JSON.stringify(template)
      .replace(/[0-9a-f]{64}(\.zip|\.json|\.py)?/g, '<asset-hash>$1')
      .replace(/"(S3Key|s3Key)":"[^"]*"/g, '"$1":"<asset-key>"'),
  );
}

/** Every resource of a type in a template, as [logicalId, properties]. */
export function resourcesOf(t: Template, type: string): [string, Record<string, any>][] {
  return Object.entries(t.findResources(type)).map(([id, r]) => [
    id,
    (r as { Properties?: Record<string, any> }).Properties ?? {},
  ]);
}
