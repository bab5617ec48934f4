/**
 * CPU of the cfn-guard binary for one stage's templates, planned four ways (prints figures, asserts
 * nothing): as the synth runs it (planGuardRuns: each template with the rule files naming one of its
 * resource types, one process per rule set, over templates cut down to what those rules read: projectRun),
 * the same over the whole templates, one process for the whole stage with the union of those
 * rule files, and one process for the whole stage with every Control Tower rule file. Medians of the
 * rounds; CPU is user + system of the reaped cfn-guard processes. It also compares the findings of the
 * first two, as CfnGuardValidator parses them (rule, template, resource, locations), and says whether they are the same.
 *
 *   npx tsx bench/cfn-guard-runs.ts [--assembly cdk.out/assembly-Pipeline-Dev | --all] [--runs 3]
 *
 * --all    every template of cdk.out (the pipeline stack and every stage), planned per assembly as the synth does;
 *          only the first two ways (one process for several stages is not how anything runs)
 *
 * Needs a synthesized cloud assembly (`npx cdk synth`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  CONTROL_TOWER_RULES_DIR,
  controlTowerRuleIndex,
  GuardRun,
  planGuardRuns,
  projectRun,
  restoreTemplatePaths,
} from '../lib/compliance/cfn-guard';
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

/** Findings of these runs as CfnGuardValidator reports them, one line each, sorted. */
function findings(plan: readonly GuardRun[]): string[] {
  return plan
    .flatMap((run) => {
      const report = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: run.rules }).validate({
        templatePaths: run.dataPaths ?? run.templatePaths,
      } as never);
      return restoreTemplatePaths(run, report).violations.flatMap((v) =>
        v.violatingResources.map((r) =>
          JSON.stringify([v.ruleName, v.description, r.templatePath, r.resourceLogicalId, [...r.locations].sort()]),
        ),
      );
    })
    .sort();
}

function templatesIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => path.resolve(dir, f));
}

function main(): void {
  const argv = process.argv.slice(2);
  const opt = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
  const assemblies = argv.includes('--all')
    ? [
        'cdk.out',
        ...fs
          .readdirSync('cdk.out')
          .filter((d) => d.startsWith('assembly-'))
          .map((d) => path.join('cdk.out', d)),
      ]
    : [opt('--assembly', path.join('cdk.out', 'assembly-Pipeline-Dev'))];
  const assembly = assemblies.join(', ');
  const runs = Number(opt('--runs', '3'));
  const index = controlTowerRuleIndex();
  const byAssembly = assemblies.map(templatesIn);
  const templates = byAssembly.flat();
  // As the synth plans them: per assembly (one stage's templates, or the pipeline stack's).
  const plan = byAssembly.flatMap((paths) =>
    planGuardRuns(
      paths.map((p) => {
        const resources = (JSON.parse(fs.readFileSync(p, 'utf8')) as { Resources?: Record<string, { Type?: string }> })
          .Resources;
        return { path: p, types: new Set(Object.values(resources ?? {}).map((r) => r.Type ?? '')) };
      }),
      index,
    ),
  );
  const projected = plan.map((run) => projectRun(run, index));
  const union = [...new Set(plan.flatMap((r) => r.rules))].sort();
  const variants: [string, () => { cpu: number; bytes: number }][] = [
    [
      `as the synth runs it: ${plan.length} processes, ${median(plan.map((r) => r.rules.length))} rule files (median), cut-down templates`,
      () =>
        projected
          .map((r) => guard(r.rules, r.dataPaths ?? r.templatePaths))
          .reduce((a, b) => ({ cpu: a.cpu + b.cpu, bytes: a.bytes + b.bytes })),
    ],
    [
      `the same processes over the whole templates`,
      () =>
        plan
          .map((r) => guard(r.rules, r.templatePaths))
          .reduce((a, b) => ({ cpu: a.cpu + b.cpu, bytes: a.bytes + b.bytes })),
    ],
    // One process for templates of several stages is not how anything runs; --all compares the plans only.
    ...(assemblies.length > 1
      ? []
      : ([
          [`one process, the union of those rule files (${union.length})`, () => guard(union, templates)],
          [`one process, every rule file (${index.length})`, () => guard([CONTROL_TOWER_RULES_DIR], templates)],
        ] as [string, () => { cpu: number; bytes: number }][])),
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
  const cut = findings(projected);
  const whole = findings(plan);
  const same = cut.length === whole.length && cut.every((f, i) => f === whole[i]);
  console.log(
    `  findings over cut-down and whole templates: ${same ? 'the same' : 'DIFFERENT'} (${cut.length} and ${whole.length})`,
  );
  if (!same) process.exitCode = 1;
}

main();
