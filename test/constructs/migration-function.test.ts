import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  handlerBundleHash,
  handlerBundles,
  handlerEntries,
  handlerEnvironment,
  MigrationFunction,
} from '../../lib/constructs/migration-function';
import type { CutoverFenceEnvironment } from '../../lambda/cutover-fence/config';
import type { SfnTriggerEnvironment } from '../../lambda/sfn-trigger/config';

/** Synthesizes one stack with the given handlers and returns the staged asset folder of each. */
function synth(handlers: string[], context: Record<string, unknown> = {}) {
  const app = new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'migration-fn-')),
    context: { 'aws:cdk:enable-asset-metadata': true, ...context },
  });
  const stack = new Stack(app, 'Fns');
  const fns = handlers.map(
    (h, i) => new MigrationFunction(stack, `Fn${i}`, { handlerName: h, logRetention: logs.RetentionDays.ONE_DAY }),
  );
  const assembly = app.synth();
  const template = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Fns.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, any> }>;
  };
  return fns.map((fn) => {
    const resource = template.Resources[stack.getLogicalId(fn.node.defaultChild as never)]!;
    return {
      handler: resource.Properties.Handler as string,
      assetDir: path.join(assembly.directory, resource.Metadata!['aws:asset:path'] as string),
    };
  });
}

describe('MigrationFunction bundles', () => {
  it('finds every handler under lambda/, nested ones included, and not the shared code', () => {
    expect(Object.keys(handlerEntries()).sort()).toEqual([
      'cutover-checks',
      'cutover-fence',
      'datasync-agent-setup',
      'dms-task-manager',
      'glue-trigger',
      'opensearch-setup',
      'opensearch-setup/log-transform',
      'remediation',
      'sfn-trigger',
      'weighted-routing',
    ]);
  });

  it('builds every handler once per content hash and stages each function its own bundle', () => {
    const { dir, hash } = handlerBundles();
    expect(hash).toBe(handlerBundleHash());
    expect(fs.readFileSync(path.join(dir, '.complete'), 'utf8')).toBe(hash);
    const built = fs.statSync(path.join(dir, 'glue-trigger', 'index.js')).mtimeMs;

    const [glue, transform, setup] = synth(['glue-trigger', 'opensearch-setup/log-transform', 'opensearch-setup']);
    // The parent handler's asset does not carry the nested handler's bundle.
    expect(fs.readdirSync(setup!.assetDir).sort()).toEqual(['index.js', 'index.js.map']);
    expect(glue!.handler).toBe('index.handler');
    expect(fs.readdirSync(glue!.assetDir).sort()).toEqual(['index.js', 'index.js.map']);
    expect(fs.readFileSync(glue!.assetDir + '/index.js', 'utf8')).toBe(
      fs.readFileSync(path.join(dir, 'glue-trigger', 'index.js'), 'utf8'),
    );
    expect(transform!.assetDir).not.toBe(glue!.assetDir);
    expect(fs.readFileSync(transform!.assetDir + '/index.js', 'utf8')).toBe(
      fs.readFileSync(path.join(dir, 'opensearch-setup', 'log-transform', 'index.js'), 'utf8'),
    );
    // SDK v3 stays external, and the bundle is minified CJS with a source map.
    const code = fs.readFileSync(glue!.assetDir + '/index.js', 'utf8');
    expect(code).toMatch(/require\("@aws-sdk\/client-glue"\)/);
    expect(code).toMatch(/sourceMappingURL=index\.js\.map/);

    // A second synth reuses the bundle: nothing is rebuilt.
    synth(['glue-trigger']);
    expect(handlerBundles().dir).toBe(dir);
    expect(fs.statSync(path.join(dir, 'glue-trigger', 'index.js')).mtimeMs).toBe(built);
  });

  it('builds nothing for stacks whose bundling is skipped', () => {
    const [fn] = synth(['sfn-trigger'], { 'aws:cdk:bundling-stacks': [] });
    expect(fn!.assetDir).not.toMatch(/asset\./);
  });

  it('names a missing handler folder', () => {
    const stack = new Stack(new App(), 'S');
    expect(
      () => new MigrationFunction(stack, 'Fn', { handlerName: 'no-such', logRetention: logs.RetentionDays.ONE_DAY }),
    ).toThrow(/No handler lambda\/no-such\/index\.ts/);
  });
});

describe('handlerEnvironment', () => {
  it('sets the variables given and leaves unset optional ones out', () => {
    expect(
      handlerEnvironment<SfnTriggerEnvironment>({
        STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111111111111:stateMachine:w',
        EXECUTION_SCOPE: 'per-object',
        STATE_TABLE_NAME: undefined,
      }),
    ).toEqual({
      STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111111111111:stateMachine:w',
      EXECUTION_SCOPE: 'per-object',
    });
  });

  it('does not compile when a variable is renamed, missing or of the wrong kind (checked by tsc)', () => {
    const fence = {
      SOURCE_SECRET_ARN: 's',
      TARGET_SECRET_ARN: 't',
      APP_ROLE_NAME: 'app',
      DATABASE_NAME: 'db',
      SCHEMAS: 'payments',
      SEQUENCE_MARGIN: '1000',
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
    };
    const withoutMargin: Omit<typeof fence, 'SEQUENCE_MARGIN'> & { SEQUENCE_MARGIN?: string } = { ...fence };
    delete withoutMargin.SEQUENCE_MARGIN;
    // @ts-expect-error SEQUENCE_MARGIN is missing
    handlerEnvironment<CutoverFenceEnvironment>(withoutMargin);
    // @ts-expect-error SEQUENCE_MARGINS is not a variable of the handler
    handlerEnvironment<CutoverFenceEnvironment>({ ...withoutMargin, SEQUENCE_MARGINS: '1000' });
    // @ts-expect-error EXECUTION_SCOPE takes only the scopes the handler knows
    handlerEnvironment<SfnTriggerEnvironment>({ STATE_MACHINE_ARN: 'arn', EXECUTION_SCOPE: 'per-batch' });
    expect(handlerEnvironment<CutoverFenceEnvironment>(fence)).toEqual(fence);
  });
});
