/**
 * Fixed monthly cost of a synthesized cloud assembly, per environment, stage and stack.
 * Run: `npx cdk synth` then `npm run cost [-- --json] [-- --assembly <dir>] [-- --max <env>=<usd>]`.
 * `--max dev=150` exits 1 when that environment's fixed total is above the figure or has items
 * that are not priced. See docs/cost.md.
 */
import * as path from 'node:path';
import { readAssembly } from './assembly';
import { buildCostReport, formatCostReport } from './report';

interface Args {
  json: boolean;
  assembly: string;
  max: Map<string, number>;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { json: false, assembly: 'cdk.out', max: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--assembly' && argv[i + 1]) args.assembly = argv[++i]!;
    else if (a === '--max' && /^[\w-]+=\d+(\.\d+)?$/.test(argv[i + 1] ?? '')) {
      const [env, value] = argv[++i]!.split('=') as [string, string];
      args.max.set(env, Number(value));
    } else {
      throw new Error(`Unknown argument "${a}". Usage: cost [--json] [--assembly cdk.out] [--max dev=150]`);
    }
  }
  return args;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const report = buildCostReport(readAssembly(path.resolve(args.assembly)));
  process.stdout.write(`${args.json ? JSON.stringify(report, null, 2) : formatCostReport(report)}\n`);
  let status = 0;
  for (const [env, max] of args.max) {
    const e = report.environments.find((x) => x.environment === env);
    if (!e) {
      console.error(`--max ${env}: no environment "${env}" in the assembly`);
      status = 1;
    } else if (e.fixedMonthly > max || e.notPriced > 0) {
      console.error(
        `${env}: fixed cost $${e.fixedMonthly.toFixed(2)} a month with ${e.notPriced} item(s) not priced; the limit is $${max} with none unpriced`,
      );
      status = 1;
    }
  }
  return status;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
