import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import { sharedSynth } from './shared-synth';
import { CDK_JSON_CONTEXT } from './stage-fixture';

/** The CodeStar connection the fixture's pipeline starts from. */
export const PIPELINE_CONNECTION =
  'arn:aws:codeconnections:us-west-2:111111111111:connection/0b5e6f1c-1111-2222-3333-444455556666';

/** What a developer's shell may carry; the app is built with it set, and must not read it. */
export const SHELL_ALARM_EMAIL = 'shell@example.com';

/**
 * The default app's context as the pipeline's CodeBuild synth has it: committed config, one account per
 * environment, the repository and its connection (cfn-guard off here only to keep the tests fast).
 */
export const PIPELINE_APP_CONTEXT: Record<string, unknown> = {
  ...CDK_JSON_CONTEXT,
  cfnGuard: 'false',
  repository: 'acme/migration-platform',
  connectionArn: PIPELINE_CONNECTION,
  pipelineAccount: '111111111111',
  devAccount: '222222222222',
  stagingAccount: '333333333333',
  prodAccount: '444444444444',
};

/** The synthesized default app, as plain data that crosses jest workers. */
interface PipelineAppJson {
  readonly pipeline: ReturnType<Template['toJSON']>;
  /** Build specs the pipeline template names by file (long ones are written next to it), by file name. */
  readonly buildSpecs: Record<string, string>;
  readonly account: string;
  readonly region: string;
  /** `[stageName, account, region]` of each MigrationStage the pipeline deploys, in order. */
  readonly stages: [string, string | undefined, string | undefined][];
  /** Templates of the first (dev) MigrationStage, by stack id. */
  readonly devStage: Record<string, ReturnType<Template['toJSON']>>;
}

export interface SynthesizedPipelineApp extends Omit<PipelineAppJson, 'pipeline' | 'devStage'> {
  readonly pipeline: Template;
  readonly devStage: Record<string, Template>;
}

function build(): PipelineAppJson {
  // Loaded only when built: a suite served from the shared folder never pays for the import.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildApp } = require('../../lib/app-builder') as typeof import('../../lib/app-builder');
  const saved = process.env.ALARM_EMAIL;
  process.env.ALARM_EMAIL = SHELL_ALARM_EMAIL;
  try {
    const app = buildApp({ context: PIPELINE_APP_CONTEXT });
    app.synth();
    const stack = app.node.findChild('Pipeline') as PipelineStack;
    const pipeline = Template.fromStack(stack).toJSON();
    // Long build specs (asset publishing) are written next to the template and named by file.
    const projects = Object.values(pipeline.Resources as Record<string, { Type: string; Properties?: any }>).filter(
      (r) => r.Type === 'AWS::CodeBuild::Project',
    );
    const buildSpecs = Object.fromEntries(
      projects
        .map((p) => String(p.Properties.Source.BuildSpec))
        .filter((spec) => spec.startsWith('buildspec-'))
        .map((f) => [f, fs.readFileSync(path.join(app.outdir, f), 'utf8')]),
    );
    const dev = stack.stages[0]!;
    return {
      pipeline,
      buildSpecs,
      account: Stack.of(stack).account,
      region: stack.region,
      stages: stack.stages.map((s) => [s.stageName, s.account, s.region]),
      devStage: Object.fromEntries(
        dev.node.children.filter((c) => c instanceof Stack).map((s) => [s.node.id, Template.fromStack(s).toJSON()]),
      ),
    };
  } finally {
    if (saved === undefined) delete process.env.ALARM_EMAIL;
    else process.env.ALARM_EMAIL = saved;
  }
}

/**
 * The default app (the Pipeline stack with every stage it deploys, cdk-nag on) built from
 * {@link PIPELINE_APP_CONTEXT} while the shell carries {@link SHELL_ALARM_EMAIL}, synthesized once per
 * test run and shared by the suites that read it (test/support/shared-synth.ts).
 */
export function synthPipelineApp(): SynthesizedPipelineApp {
  const json = sharedSynth('pipeline-app', build);
  return {
    ...json,
    pipeline: Template.fromJSON(json.pipeline),
    devStage: Object.fromEntries(Object.entries(json.devStage).map(([id, t]) => [id, Template.fromJSON(t)])),
  };
}
