import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The parts of a CloudFormation template the cost report reads. */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** One stack of a synthesized cloud assembly, with where it sits. */
export interface AssemblyStack {
  /** Display path of the nested assembly (`Pipeline/Dev`), or `(app)` for stacks at the top level. */
  readonly stage: string;
  /** Stack id inside its stage (`Network`). */
  readonly stack: string;
  /** Deployed name (`Dev-Network`). */
  readonly stackName: string;
  /**
   * Environment the stack belongs to: the `Environment` tag its resources carry, else the last
   * segment of the stage path in lower case, else `(app level)`.
   */
  readonly environment: string;
  /** Region from the stack's environment; undefined for region-agnostic stacks. */
  readonly region: string | undefined;
  readonly template: CfnTemplate;
}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly displayName?: string;
  readonly properties?: { templateFile?: string; directoryName?: string; stackName?: string; displayName?: string };
}

/**
 * Reads every stack of a cloud assembly (`cdk.out`), descending into the nested assemblies that
 * CDK writes for each Stage (`assembly-*`).
 */
export function readAssembly(dir: string): AssemblyStack[] {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new Error(`No cloud assembly at ${dir} (manifest.json missing): run \`npx cdk synth\` first.`);
  }
  return readNested(dir, '(app)');
}

function readNested(dir: string, stage: string): AssemblyStack[] {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const out: AssemblyStack[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      const name = artifact.properties.displayName ?? artifact.displayName ?? id;
      out.push(...readNested(path.join(dir, artifact.properties.directoryName), name));
    } else if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
      const template = JSON.parse(
        readFileSync(path.join(dir, artifact.properties.templateFile), 'utf8'),
      ) as CfnTemplate;
      const display = artifact.displayName ?? id;
      const stack = stage !== '(app)' && display.startsWith(`${stage}/`) ? display.slice(stage.length + 1) : display;
      out.push({
        stage,
        stack,
        stackName: artifact.properties.stackName ?? id,
        environment: environmentOf(template, stage),
        region: regionOf(artifact.environment),
        template,
      });
    }
  }
  return out;
}

function regionOf(environment: string | undefined): string | undefined {
  const region = environment?.split('/')[3];
  return region && region !== 'unknown-region' ? region : undefined;
}

function environmentOf(template: CfnTemplate, stage: string): string {
  for (const resource of Object.values(template.Resources ?? {})) {
    const tags = resource.Properties?.Tags;
    if (Array.isArray(tags)) {
      const tag = tags.find((t: { Key?: unknown }) => t?.Key === 'Environment') as { Value?: unknown } | undefined;
      if (typeof tag?.Value === 'string') return tag.Value;
    }
  }
  if (stage === '(app)') return '(app level)';
  return (stage.split('/').pop() ?? stage).toLowerCase();
}
