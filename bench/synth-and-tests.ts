/**
 * Synth and test-time ratios of issue 13, measured side by side in one run (prints figures, asserts
 * nothing). Rounds alternate the variants so load changes hit all of them alike; each figure is the
 * median over the rounds, as wall time and as CPU time (user + system of the whole process tree),
 * with the 1-minute load average before each round.
 *
 *   npx tsx bench/synth-and-tests.ts [--runs N] [--quick] [--full-jest]
 *
 * --runs N      rounds (default 3)
 * --quick       one round, and the test-time variants run only test/stages
 * --full-jest   the test-time variants run the whole jest suite (default: JEST_SUBSET, see there)
 * --synth       only the synth variants
 *
 * Variants: the full `cdk synth` (pipeline, every stage, template validation, cdk-nag, cfn-guard) with
 * the project's tsx runner, with an empty cfn-guard report cache (cold, the figure the targets are judged
 * on) and again with the cache that run filled (warm); cold with cfn-guard in worker threads
 * (`CFN_GUARD_WORKERS=2`);
 * the empty-app floor (bench/empty-app.ts) with the same CLI and runner;
 * the same full synth with the CDK default runner `ts-node --prefer-ts-exts`; jest with the project's
 * esbuild transform and with ts-jest on the same suites (both `--no-cache`, so every round pays for
 * its transform as a clean CI checkout does), and, when stage suites are included, with stage sharing
 * off (`TEST_SHARED_SYNTH=off`). A runner that is not installed is reported as missing, never guessed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

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
  /**
   * The cfn-guard report cache: `cold`, an empty folder for this run (the round's first cold run
   * keeps its folder for the warm one); `warm`, the folder that run filled. @default the project's own
   */
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
 * The suites the jest variants run by default: every unit suite that synthesizes no stage (config,
 * handlers, DMS task definitions). The whole suite under ts-jest, three rounds, takes longer than the
 * 2 shared cores allow next to the synth variants; these suites are where the transform's share of
 * the run is largest, so they show the transform ratio and not the synth time both variants share.
 */
const JEST_SUBSET = ['test/config', 'test/lambda', 'test/dms'];

function args(): { runs: number; quick: boolean; fullJest: boolean; synthOnly: boolean } {
  const argv = process.argv.slice(2);
  const synthOnly = argv.includes('--synth');
  const quick = argv.includes('--quick');
  const fullJest = argv.includes('--full-jest');
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : quick ? 1 : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: expected a whole number of rounds, e.g. --runs 3');
  return { runs, quick, fullJest, synthOnly };
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
    const tail = r.stderr.toString().trim().split('\n').slice(-5).join('\n');
    console.log(`  ${v.name}: exit ${r.status} (figure kept, marked failed)\n${tail}`);
  }
  return { wall: wall!, cpu: user! + sys!, rssMiB: rssKiB! / 1024, ok: r.status === 0 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function main(): void {
  const { runs, quick, fullJest, synthOnly } = args();
  const synthOut = () => fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const guardCacheDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'bench-guard-cache-'));
  const cdk = (app?: string) => [
    BIN('cdk'),
    'synth',
    '--quiet',
    '--output',
    synthOut(),
    ...(app ? ['--app', app] : []),
  ];
  const tests = quick ? ['test/stages'] : fullJest ? [] : JEST_SUBSET;
  const suites = quick ? ' test/stages' : fullJest ? '' : ` ${JEST_SUBSET.join(' ')}`;
  const jest = (extra: string[] = []) => [BIN('jest'), '--silent', '--no-cache', ...extra, ...tests];
  const hasTsNode = installed('ts-node');
  const hasTsJest = installed('ts-jest');

  const variants: Variant[] = [
    { name: 'synth: full, every check on (tsx), cfn-guard cache cold', command: cdk(), guardCache: 'cold' },
    { name: 'synth: empty-app floor (tsx)', command: cdk(`${BIN('tsx')} bench/empty-app.ts`) },
    {
      name: 'synth: full, cfn-guard in 2 worker threads (tsx), cache cold',
      command: cdk(),
      env: { CFN_GUARD_WORKERS: '2' },
      guardCache: 'cold',
    },
    {
      name: 'synth: full, CDK default ts-node runner, cache cold',
      command: cdk('npx ts-node --prefer-ts-exts bin/app.ts'),
      guardCache: 'cold',
      ...(hasTsNode ? {} : { missing: 'ts-node is not installed (run npm ci)' }),
    },
    {
      name: 'synth: full, every check on (tsx), cfn-guard cache warm',
      command: cdk(),
      guardCache: 'warm',
    },
    { name: `jest${suites}: esbuild transform, shared stages (project setup)`, command: jest() },
    {
      name: `jest${suites}: sharing off`,
      command: jest(),
      env: { TEST_SHARED_SYNTH: 'off' },
      ...(quick || fullJest ? {} : { missing: 'these suites synthesize no stage (use --quick or --full-jest)' }),
    },
    {
      name: `jest${suites}: ts-jest`,
      command: jest(['--transform', JSON.stringify({ '^.+\\.ts$': 'ts-jest' })]),
      ...(hasTsJest ? {} : { missing: 'ts-jest is not installed (run npm ci)' }),
    },
  ];

  if (synthOnly) {
    for (const v of variants) v.missing ??= v.name.startsWith('synth:') ? undefined : 'not run (--synth)';
  }
  console.log(`${os.cpus().length} CPUs, ${runs} round(s)${quick ? ', quick mode' : ''}, Node ${process.version}`);
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  const loads: number[] = [];
  for (let round = 1; round <= runs; round++) {
    const load = os.loadavg()[0]!;
    loads.push(load);
    console.log(`round ${round}: load average (1 min) ${load.toFixed(2)}`);
    let filled: string | undefined;
    for (const v of variants) {
      if (v.missing) continue;
      const cacheDir = v.guardCache === 'warm' ? filled : v.guardCache ? guardCacheDir() : undefined;
      if (v.guardCache === 'cold') filled ??= cacheDir;
      const s = measure(cacheDir ? { ...v, env: { ...v.env, CFN_GUARD_CACHE_DIR: cacheDir } } : v);
      samples.get(v.name)!.push(s);
      console.log(
        `  ${v.name}: ${s.wall.toFixed(1)} s wall, ${s.cpu.toFixed(1)} s CPU, ${s.rssMiB.toFixed(0)} MiB peak`,
      );
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
  const ratio = (label: string, a: Variant, b: Variant, target: string) => {
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
  const [full, floor, guardInWorkers, tsNode, warm, shared, unshared, tsJest] = variants as [
    Variant,
    Variant,
    Variant,
    Variant,
    Variant,
    Variant,
    Variant,
    Variant,
  ];
  console.log('\nratios (synth: cfn-guard cache cold unless named warm)');
  ratio('full synth / empty-app floor', full, floor, '<= 5');
  ratio('full synth / same app under ts-node', full, tsNode, '<= 0.35');
  ratio('full synth, cache warm / empty-app floor', warm, floor, 'informative');
  ratio('full synth, cache warm / same app under ts-node (cold)', warm, tsNode, 'informative');
  ratio('full synth / same with cfn-guard in worker threads', full, guardInWorkers, 'informative');
  ratio('jest / ts-jest on the same suites', shared, tsJest, '<= 0.5');
  ratio('jest shared stages / sharing off', shared, unshared, 'informative');
}

main();
