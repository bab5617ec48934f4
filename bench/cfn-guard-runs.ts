/**
 * CPU of the cfn-guard binary for one stage's templates, planned three ways (prints figures, asserts
 * nothing): as the synth runs it (planGuardRuns: each template with the rule files naming one of its
 * resource types, one process per rule set), one process for the whole stage with the union of those
 * rule files, and one process for the whole stage with every Control Tower rule file. Medians of the
 * rounds; CPU is user + system of the reaped cfn-guard processes.
 *
 *   npx tsx bench/cfn-guard-runs.ts [--assembly cdk.out/assembly-Pipeline-Dev] [--runs 3]
 *
 * Needs a synthesized cloud assembly (`npx cdk synth`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { CONTROL_TOWER_RULES_DIR, controlTowerRuleIndex, planGuardRuns } from '../lib/compliance/cfn-guard';
import { childCpu, median } from './support';

// The binary the plugin runs on this machine (its own platform choice; a private field there).
const GUARD = (new CfnGuardValidator() as unknown as { guard: string }).guard;

/** Runs cfn-guard as CfnGuardValidator does; its CPU seconds and output bytes. */
function guard(rules: readonly string[], templates: readonly string[]): { cpu: number; bytes: number } {
  const before = childCpu();
  const r = spawnSync(
    GUARD,
    [
      'validate',
      ...rules.flatMap((x) => ['--rules', x]),
      ...templates.flatMap((t) => ['--data', t]),
      ...['--output-format', 'json', '--show-summary', 'none', '--structured'],
    ],
    { maxBuffer: 1 << 30 },
  );
  // 0 all passed, 19 some rule failed (CfnGuardValidator accepts 5 too); anything else is an error.
  if (r.status !== 0 && r.status !== 5 && r.status !== 19) throw new Error(`cfn-guard exited ${r.status}`);
  return { cpu: childCpu() - before, bytes: r.stdout.length };
}

function main(): void {
  const argv = process.argv.slice(2);
  const opt = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
  const assembly = opt('--assembly', path.join('cdk.out', 'assembly-Pipeline-Dev'));
  const runs = Number(opt('--runs', '3'));
  const templates = fs
    .readdirSync(assembly)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => path.join(assembly, f));
  const index = controlTowerRuleIndex();
  const plan = planGuardRuns(
    templates.map((p) => {
      const resources = (JSON.parse(fs.readFileSync(p, 'utf8')) as { Resources?: Record<string, { Type?: string }> })
        .Resources;
      return { path: p, types: new Set(Object.values(resources ?? {}).map((r) => r.Type ?? '')) };
    }),
    index,
  );
  const union = [...new Set(plan.flatMap((r) => r.rules))].sort();
  const variants: [string, () => { cpu: number; bytes: number }][] = [
    [
      `as the synth runs it: ${plan.length} processes, ${median(plan.map((r) => r.rules.length))} rule files (median)`,
      () =>
        plan
          .map((r) => guard(r.rules, r.templatePaths))
          .reduce((a, b) => ({ cpu: a.cpu + b.cpu, bytes: a.bytes + b.bytes })),
    ],
    [`one process, the union of those rule files (${union.length})`, () => guard(union, templates)],
    [`one process, every rule file (${index.length})`, () => guard([CONTROL_TOWER_RULES_DIR], templates)],
  ];
  const samples = variants.map(() => [] as { cpu: number; bytes: number }[]);
  const loads: number[] = [];
  for (let round = 0; round < runs; round++) {
    loads.push(os.loadavg()[0]!);
    variants.forEach(([, run], i) => samples[i]!.push(run()));
  }
  console.log(
    `${assembly}: ${templates.length} templates; medians of ${runs} round(s), load average ` +
      `${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)} (1 min, before each round)`,
  );
  variants.forEach(([name], i) => {
    const s = samples[i]!;
    console.log(
      `  ${name}: ${median(s.map((x) => x.cpu)).toFixed(2)} s CPU, ${(median(s.map((x) => x.bytes)) / 1024).toFixed(0)} KiB output`,
    );
  });
}

main();
