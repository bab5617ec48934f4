import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EnvName } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import type { MigrationStage } from '../../stages/migration-stage';
import { offerSharedSynth, sharedSynth, sharedSynthDir } from './shared-synth';

/** A stack of a synthesized stage as the cloud assembly records it. */
export interface SynthesizedStack {
  readonly stackName: string;
  /** From the stack's artifact in the cloud assembly: what `cdk deploy` sets. */
  readonly terminationProtection: boolean;
  /** Ids inside the stage of the stacks the assembly deploys before this one (`Network`, ...). */
  readonly dependencies: readonly string[];
}

export interface StageTemplates {
  /** Template of each stack by its id inside the stage (`Network`, `Storage`, ...). */
  readonly templates: Record<string, Template>;
  /** Each stack's assembly entry by the same ids. */
  readonly stacks: Record<string, SynthesizedStack>;
}

export interface SynthesizedStage extends StageTemplates {
  /** The live construct tree, for tests that assert on constructs rather than on templates. */
  readonly stage: MigrationStage;
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

const live = new Map<string, SynthesizedStage>();

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

/** An App configured like the real one (feature flags from cdk.json), writing to a temp dir. */
export function newApp(context: Record<string, unknown> = {}, parentDir: string = os.tmpdir()): App {
  return new App({
    outdir: fs.mkdtempSync(path.join(parentDir, 'cdk-test-')),
    context: { ...CDK_JSON_CONTEXT, ...context },
  });
}

/** Builds and synthesizes the `Test` MigrationStage of `env` with cdk-nag on (cfn-guard stays off). */
function buildStage(env: EnvName, account: string | undefined, parentDir?: string): SynthesizedStage {
  // Loaded only when a stage is built: a suite served from the shared folder never pays for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MigrationStage } = require('../../stages/migration-stage') as typeof import('../../stages/migration-stage');
  const app = newApp({}, parentDir);
  const config = loadEnvironmentConfig(
    env,
    () => undefined,
    account ? { [`${env.toUpperCase()}_ACCOUNT`]: account } : {},
  );
  const stage = new MigrationStage(app, 'Test', {
    config,
    env: config.account ? { account: config.account, region: config.region } : { region: config.region },
  });
  app.synth();
  const assembly = stage.synth();
  const templates: Record<string, Template> = {};
  const stacks: Record<string, SynthesizedStack> = {};
  const stageStacks = stage.node.children.filter((c): c is Stack => c instanceof Stack);
  const idOfArtifact = new Map(stageStacks.map((s) => [s.artifactId, s.node.id]));
  for (const child of stageStacks) {
    templates[child.node.id] = Template.fromStack(child);
    const artifact = assembly.getStackArtifact(child.artifactId);
    stacks[child.node.id] = {
      stackName: artifact.stackName,
      terminationProtection: !!artifact.terminationProtection,
      dependencies: artifact.dependencies.flatMap((d) => idOfArtifact.get(d.id) ?? []),
    };
  }
  return { stage, templates, stacks };
}

/** What the shared folder holds for a stage: its templates as JSON and its stacks' assembly entries. */
interface SharedStage {
  readonly templates: Record<string, ReturnType<Template['toJSON']>>;
  readonly stacks: Record<string, SynthesizedStack>;
}

const sharedKey = (env: EnvName, account: string | undefined) => `migration-stage-${env}-${account ?? 'no-account'}`;

function toShared({ templates, stacks }: StageTemplates): SharedStage {
  return { templates: Object.fromEntries(Object.entries(templates).map(([id, t]) => [id, t.toJSON()])), stacks };
}

/**
 * The templates of one MigrationStage with the committed config of `env` (no account: offline) and
 * cdk-nag on. Synthesis throws if any nag finding is unacknowledged, so every test that uses this
 * fixture also proves the stage is clean. Synthesized once per test run and shared by all suites
 * and workers (test/support/shared-synth.ts); use {@link synthStageLive} only when a test needs the
 * construct tree itself.
 */
export function synthStage(env: EnvName, opts: { account?: string } = {}): StageTemplates {
  const shared = sharedSynth(sharedKey(env, opts.account), () =>
    toShared(live.get(`${env}:${opts.account ?? ''}`) ?? buildStage(env, opts.account, sharedSynthDir())),
  );
  return {
    templates: Object.fromEntries(Object.entries(shared.templates).map(([id, t]) => [id, Template.fromJSON(t)])),
    stacks: shared.stacks,
  };
}

/**
 * Like {@link synthStage}, but synthesized in this test file's process so the construct tree is
 * available (`stage.logging.dependencies`, ...). Costs one synthesis per suite (memoized per file);
 * its templates are offered to the shared folder, so {@link synthStage} does not build the stage again.
 */
export function synthStageLive(env: EnvName, opts: { account?: string } = {}): SynthesizedStage {
  const key = `${env}:${opts.account ?? ''}`;
  const hit = live.get(key);
  if (hit) return hit;
  const result = buildStage(env, opts.account);
  live.set(key, result);
  offerSharedSynth(sharedKey(env, opts.account), () => toShared(result));
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
