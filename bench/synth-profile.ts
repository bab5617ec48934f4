/**
 * Where the time of one full synth goes, measured in one process (prints figures, asserts nothing):
 * importing the app, building the construct tree, each validation plugin (aws-cdk-lib's CloudFormation
 * template validation, cdk-nag, cfn-guard split into the cfn-guard processes and parsing their
 * output), the rest of `app.synth()` (Aspects, templates, assets) and the compliance reports.
 *
 *   npx tsx bench/synth-profile.ts [--out DIR]
 *
 * Wall time per phase, this process's CPU per phase, and the CPU of the cfn-guard child processes
 * (from /proc/self/stat, which counts reaped children). The cfn-guard result cache is used as
 * configured (CFN_GUARD_CACHE, TEMPLATE_VALIDATION_CACHE); run with both =off for a cold figure.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { childCpu } from './support';

const started = Date.now();
const cpuAtStart = process.cpuUsage();

interface Phase {
  wall: number;
  cpu: number;
  calls: number;
}
const phases = new Map<string, Phase>();

const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function record(name: string, wall: number, cpu: number): void {
  const p = phases.get(name) ?? { wall: 0, cpu: 0, calls: 0 };
  phases.set(name, { wall: p.wall + wall, cpu: p.cpu + cpu, calls: p.calls + 1 });
}

/** Times `fn` as phase `name`; `child` counts reaped child CPU instead of this process's. */
function timed<T>(name: string, fn: () => T, child = false): T {
  const w = Date.now();
  const c = child ? childCpu() : ownCpu();
  try {
    return fn();
  } finally {
    record(name, (Date.now() - w) / 1000, (child ? childCpu() : ownCpu()) - c);
  }
}

/** Wraps a prototype method so each call is timed as `name`. */
function wrap(proto: object, method: string, name: string, child = false): void {
  const target = proto as Record<string, (...a: unknown[]) => unknown>;
  const original = target[method]!;
  target[method] = function (this: unknown, ...a: unknown[]) {
    return timed(name, () => original.apply(this, a), child);
  };
}

function main(): void {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--out');
  const out = i >= 0 ? argv[i + 1]! : fs.mkdtempSync(path.join(os.tmpdir(), 'synth-profile-'));

  /* eslint-disable @typescript-eslint/no-require-imports -- imports are timed as a phase */
  const { buildApp, cdk, nag, guard, guardUtils, report, TypeScopedCfnGuardValidator } = timed(
    'import aws-cdk-lib and the app',
    () => ({
      buildApp: (require('../lib/app-builder') as typeof import('../lib/app-builder')).buildApp,
      cdk: require('aws-cdk-lib') as typeof import('aws-cdk-lib'),
      nag: require('cdk-nag') as typeof import('cdk-nag'),
      guard: require('@cdklabs/cdk-validator-cfnguard') as typeof import('@cdklabs/cdk-validator-cfnguard'),
      guardUtils: require('@cdklabs/cdk-validator-cfnguard/lib/utils') as Record<string, unknown>,
      report: require('../lib/compliance/report') as typeof import('../lib/compliance/report'),
      TypeScopedCfnGuardValidator: (
        require('../lib/compliance/cfn-guard') as typeof import('../lib/compliance/cfn-guard')
      ).TypeScopedCfnGuardValidator,
    }),
  );

  wrap(cdk.CloudFormationValidatePlugin.prototype, 'validate', 'template validation (aws-cdk-lib)');
  // Its engine (WASM, aws-cdk-lib's own dependency): the per-template part; the rest of the plugin's
  // time is loading the templates and building the engine for their resource types.
  const engine = require(
    require.resolve('@aws/cloudformation-validate', { paths: [require.resolve('aws-cdk-lib')] }),
  ) as { CompositeEngine: { prototype: object } };
  wrap(engine.CompositeEngine.prototype, 'validateTemplate', 'template validation: validateTemplate per template');
  // The project's packs are scoped: their validate() calls validateScope() on their own stage.
  wrap(nag.NagPack.prototype, 'validateScope', 'cdk-nag');
  wrap(TypeScopedCfnGuardValidator.prototype, 'validate', 'cfn-guard plugin in all');
  wrap(guard.CfnGuardValidator.prototype, 'execGuard', 'cfn-guard: run and parse (this process)');
  /* eslint-enable @typescript-eslint/no-require-imports */
  wrap(guardUtils, 'exec', 'cfn-guard: processes (child CPU)', true);

  // The context `cdk synth` passes: cdk.json's (feature flags, the validation switch).
  const { context } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = timed('build the construct tree', () => buildApp({ outdir: out, context }));
  timed('app.synth() in all', () => app.synth());
  const violations = report.validationViolations(app);
  if (violations === 0) timed('compliance reports', () => report.writeComplianceReports(app, true));

  const total = { wall: (Date.now() - started) / 1000, cpu: ownCpu() - (cpuAtStart.user + cpuAtStart.system) / 1e6 };
  const plugins = ['template validation (aws-cdk-lib)', 'cdk-nag', 'cfn-guard plugin in all'].reduce(
    (s, n) => ({ wall: s.wall + (phases.get(n)?.wall ?? 0), cpu: s.cpu + (phases.get(n)?.cpu ?? 0) }),
    { wall: 0, cpu: 0 },
  );
  const synth = phases.get('app.synth() in all')!;
  record(
    'app.synth() without the plugins (Aspects, templates, assets)',
    synth.wall - plugins.wall,
    synth.cpu - plugins.cpu,
  );

  console.log(
    `${os.cpus().length} CPUs, load average (1 min) ${os.loadavg()[0]!.toFixed(2)} at the end, Node ${process.version}, ` +
      `${violations} validation finding(s), output ${out}`,
  );
  console.log('phase | calls | wall s | CPU s');
  for (const [name, p] of phases) {
    console.log(`${name} | ${p.calls} | ${p.wall.toFixed(1)} | ${p.cpu.toFixed(1)}`);
  }
  console.log(`total (this process) | | ${total.wall.toFixed(1)} | ${total.cpu.toFixed(1)}`);
  console.log(`cfn-guard child processes, CPU | | | ${childCpu().toFixed(1)}`);
}

main();
