/**
 * Synth and test-time ratios of issue 13, measured side by side in one run (prints figures, asserts
 * nothing). Rounds alternate the variants so load changes hit all of them alike; each figure is the
 * median over the rounds, as wall time and as CPU time (user + system of the whole process tree),
 * with the 1-minute load average before each round.
 *
 *   npx tsx bench/synth-and-tests.ts [--runs N] [--quick] [--full-jest] [--only synth|jest] [--synth]
 *
 * --runs N        rounds (default 3)
 * --quick         one round, and the test-time variants run only test/stages
 * --full-jest     the test-time variants run the whole jest suite (default: JEST_SUITES, see there)
 * --only X        measure only the synth variants or only the jest variants (--synth: --only synth)
 *
 * Variants: the full `cdk synth` (pipeline, every stage, template validation, cdk-nag, cfn-guard) with
 * the project's tsx runner, with empty cfn-guard and template-validation report caches (cold, the figure the targets are judged
 * on) and again, right after it in the same round, with the cache that run filled (warm); cold with
 * every cfn-guard run in the main thread (`CFN_GUARD_WORKERS=0`, as before the default worker pool);
 * the empty-app floor (bench/empty-app.ts) with the same CLI and runner (cdk.json's app command);
 * the same full synth with the CDK default runner `ts-node --prefer-ts-exts`; and `jest` on the same
 * suites with the project's setup (jest.config.js) and with the CDK default setup
 * (bench/jest.cdk-default.config.js: ts-jest, every suite synthesizing its own stages, aws-cdk-lib's
 * template validation on). Both jest variants run with `--no-cache`, so every round pays for its
 * transform as a clean CI checkout does. A runner that is not installed is reported as missing, never guessed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median } from './support';

const ROOT = path.resolve(__dirname, '..');
const BIN = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

interface Sample {
  wall: number;
  cpu: number;
  rssMiB: number;
  ok: boolean;
}
interface Variant {
  name: string;
  missing?: string;
  command: string[];
  env?: Record<string, string>;
  /** `cold`: new, empty report cache folders (cfn-guard, template validation); `warm`: the folders the round's first cold synth filled. */
  guardCache?: 'cold' | 'warm';
}

function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`, { paths: [ROOT] });
    return true;
  } catch {
    return false;
  }
}

/**
 * The suites the jest variants run by default: a representative part of `npm test`, because the whole
 * suite under the CDK default setup, three rounds next to ours, takes longer than two shared cores give
 * (`--full-jest` runs it all). The folders where stages are synthesized (test/stages: every stage of
 * every environment, the payment stage, snapshots; test/pipeline: the whole app; test/iam: stage
 * templates read back) and the handler suites (test/lambda, the burst simulation included), which
 * synthesize at most a bare stack; together about half of the suite's time under the project setup.
 */
const JEST_SUITES = ['test/stages', 'test/iam', 'test/pipeline', 'test/lambda'];

function args(): { runs: number; quick: boolean; fullJest: boolean; only?: 'synth' | 'jest' } {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const fullJest = argv.includes('--full-jest');
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : quick ? 1 : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: expected a whole number of rounds, e.g. --runs 3');
  const o = argv.indexOf('--only');
  const only = o >= 0 ? argv[o + 1] : argv.includes('--synth') ? 'synth' : undefined;
  if (only !== undefined && only !== 'synth' && only !== 'jest') throw new Error('--only: expected synth or jest');
  return { runs, quick, fullJest, ...(only ? { only } : {}) };
}

/** Runs a command under GNU time: wall seconds, CPU seconds of the process tree, peak RSS. */
function measure(v: Variant): Sample {
  const out = path.join(os.tmpdir(), `bench-time-${process.pid}`);
  const r = spawnSync('/usr/bin/time', ['-o', out, '-f', '%e %U %S %M', ...v.command], {
    cwd: ROOT,
    env: { ...process.env, ...v.env },
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
  const [wall, user, sys, rssKiB] = fs.readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  fs.rmSync(out, { force: true });
  if (r.status !== 0) {
    const lines = r.stderr.toString().trim().split('\n');
    // jest names each failed test in a line starting with a bullet; keep those, then the summary.
    const failed = [...new Set(lines.filter((l) => l.startsWith('  ● ')))];
    const tail = [...failed, ...lines.slice(-5)].join('\n');
    console.log(`  ${v.name}: exit ${r.status} (figure kept, marked failed)\n${tail}`);
  }
  return { wall: wall!, cpu: user! + sys!, rssMiB: rssKiB! / 1024, ok: r.status === 0 };
}

/** The app command of cdk.json (the project's runner: tsx, with V8's GC on one thread, see docs/testing.md). */
const PROJECT_APP: string = (() => {
  const app = (JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { app: string }).app;
  if (!app.includes('bin/app.ts'))
    throw new Error(`cdk.json app "${app}" does not run bin/app.ts; the floor cannot use the same runner`);
  return app;
})();

/**
 * The synth variants, in this order (synthRatios reads them so): full synth with the project runner and empty
 * report caches, the empty-app floor, cfn-guard in the main thread only, ts-node, and the full synth again
 * with the cache the first one filled.
 */
function synthVariants(): Variant[] {
  const synthOut = () => fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const cdk = (app?: string) => [
    BIN('cdk'),
    'synth',
    '--quiet',
    '--output',
    synthOut(),
    ...(app ? ['--app', app] : []),
  ];
  return [
    { name: 'synth: full, every check on (tsx), report caches cold', command: cdk(), guardCache: 'cold' },
    { name: 'synth: empty-app floor (tsx)', command: cdk(PROJECT_APP.replace('bin/app.ts', 'bench/empty-app.ts')) },
    {
      name: 'synth: full, cfn-guard only in the main thread (CFN_GUARD_WORKERS=0, tsx), cache cold',
      command: cdk(),
      env: { CFN_GUARD_WORKERS: '0' },
      guardCache: 'cold',
    },
    {
      name: 'synth: full, CDK default ts-node runner, cache cold',
      command: cdk('npx ts-node --prefer-ts-exts bin/app.ts'),
      guardCache: 'cold',
      ...(installed('ts-node') ? {} : { missing: 'ts-node is not installed (run npm ci)' }),
    },
    { name: 'synth: full, every check on (tsx), report caches warm', command: cdk(), guardCache: 'warm' },
  ];
}

function synthRatios(ratio: RatioPrinter, [full, floor, guardInMainThread, tsNode, warm]: Variant[]): void {
  ratio('full synth, cache cold / empty-app floor', full!, floor!, '<= 5');
  ratio('full synth, cache cold / same app under ts-node', full!, tsNode!, '<= 0.35');
  ratio('full synth, cache warm / empty-app floor', warm!, floor!, 'informative');
  ratio('full synth, cache warm / same app under ts-node (cold)', warm!, tsNode!, 'informative');
  ratio('full synth / same with cfn-guard only in the main thread', full!, guardInMainThread!, 'informative');
}

/**
 * The test-time variants: the project's jest setup and the CDK default setup on the same suites.
 * The default one gets `TEST_SHARED_SYNTH=off` as well, in case the calling shell carries a shared folder, and
 * `TEMPLATE_VALIDATION_CACHE=off`, so a suite that builds the app through buildApp validates with aws-cdk-lib's own plugin.
 */
function jestVariants(suites: string[]): Variant[] {
  const label = suites.length ? suites.join(' ') : 'whole suite';
  const jest = (extra: string[] = []) => [BIN('jest'), '--silent', '--no-cache', ...extra, ...suites];
  return [
    { name: `jest ${label}: project setup (jest.config.js)`, command: jest() },
    {
      name: `jest ${label}: CDK default setup (bench/jest.cdk-default.config.js: ts-jest, no sharing, validation on)`,
      command: jest(['--config', 'bench/jest.cdk-default.config.js']),
      env: { TEST_SHARED_SYNTH: 'off', TEMPLATE_VALIDATION_CACHE: 'off' },
      ...(installed('ts-jest') ? {} : { missing: 'ts-jest is not installed (run npm ci)' }),
    },
  ];
}

function jestRatios(ratio: RatioPrinter, [ours, cdkDefault]: Variant[]): void {
  ratio('jest, project setup / CDK default setup, same suites', ours!, cdkDefault!, '<= 0.5');
}

type RatioPrinter = (label: string, a: Variant, b: Variant, target: string) => void;

function main(): void {
  const { runs, quick, fullJest, only } = args();
  const synth = only === 'jest' ? [] : synthVariants();
  const tests = only === 'synth' ? [] : jestVariants(quick ? ['test/stages'] : fullJest ? [] : JEST_SUITES);
  const variants = [...synth, ...tests];

  console.log(`${os.cpus().length} CPUs, ${runs} round(s)${quick ? ', quick mode' : ''}, Node ${process.version}`);
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  const loads: number[] = [];
  for (let round = 1; round <= runs; round++) {
    const load = os.loadavg()[0]!;
    loads.push(load);
    console.log(`round ${round}: load average (1 min) ${load.toFixed(2)}`);
    const run = (v: Variant, cacheDir?: string) => {
      const caches: Record<string, string> = cacheDir
        ? {
            CFN_GUARD_CACHE_DIR: path.join(cacheDir, 'cfn-guard'),
            TEMPLATE_VALIDATION_CACHE_DIR: path.join(cacheDir, 'template-validation'),
          }
        : {};
      const s = measure({ ...v, env: { ...v.env, ...caches } });
      samples.get(v.name)!.push(s);
      console.log(
        `  ${v.name}: ${s.wall.toFixed(1)} s wall, ${s.cpu.toFixed(1)} s CPU, ${s.rssMiB.toFixed(0)} MiB peak`,
      );
    };
    const warm = variants.find((v) => v.guardCache === 'warm' && !v.missing);
    // Alternate the order as well, so neither variant always runs right after the heaviest one. The warm
    // synth is not placed by the order: it runs right after the first cold synth, on the cache that filled.
    for (const v of round % 2 ? variants : [...variants].reverse()) {
      if (v.missing || v.guardCache === 'warm') continue;
      const cacheDir = v.guardCache ? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-caches-')) : undefined;
      run(v, cacheDir);
      if (warm && v === synth[0]) run(warm, cacheDir);
    }
  }

  console.log(
    `\nmedians of ${runs} round(s); load average ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)} (1 min, before each round)`,
  );
  const med = new Map<string, { wall: number; cpu: number }>();
  for (const v of variants) {
    if (v.missing) {
      console.log(`  ${v.name}: not measured: ${v.missing}`);
      continue;
    }
    const s = samples.get(v.name)!;
    const m = { wall: median(s.map((x) => x.wall)), cpu: median(s.map((x) => x.cpu)) };
    med.set(v.name, m);
    const failed = s.some((x) => !x.ok) ? ' (a run failed)' : '';
    console.log(
      `  ${v.name}: ${m.wall.toFixed(1)} s wall, ${m.cpu.toFixed(1)} s CPU, ${median(s.map((x) => x.rssMiB)).toFixed(0)} MiB peak${failed}`,
    );
  }
  const ratio: RatioPrinter = (label, a, b, target) => {
    const x = med.get(a.name);
    const y = med.get(b.name);
    if (!x || !y) {
      console.log(`  ${label}: not measured (${(a.missing ?? b.missing)!}) — target ${target}`);
      return;
    }
    console.log(
      `  ${label}: ${(x.wall / y.wall).toFixed(2)} by wall, ${(x.cpu / y.cpu).toFixed(2)} by CPU — target ${target}`,
    );
  };
  console.log('\nratios');
  if (synth.length) synthRatios(ratio, synth);
  if (tests.length) jestRatios(ratio, tests);
}

main();
