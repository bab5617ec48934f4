/**
 * Fixed monthly cost of a synthesized cloud assembly, per environment, stage and stack.
 * Run: `npx cdk synth` then `npm run cost [-- --json] [-- --assembly <dir>] [-- --max <env>[/<stage>]=<usd>]`.
 * `--max dev=150` exits 1 when that environment's fixed total is above the figure or has items
 * that are not priced; `--max dev/Dev=150` checks only the stage `Pipeline/Dev`. See docs/cost.md.
 */
import * as path from 'node:path';
import { readAssembly } from './assembly';
import { buildCostReport, costLimitViolation, CostLimit, formatCostReport, parseCostLimit } from './report';

interface Args {
  json: boolean;
  assembly: string;
  max: CostLimit[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { json: false, assembly: 'cdk.out', max: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const limit = a === '--max' ? parseCostLimit(argv[i + 1] ?? '') : undefined;
    if (a === '--json') args.json = true;
    else if (a === '--assembly' && argv[i + 1]) args.assembly = argv[++i]!;
    else if (limit) {
      args.max.push(limit);
      i++;
    } else {
      throw new Error(
        `Unknown argument "${a}". Usage: cost [--json] [--assembly cdk.out] [--max dev=150 | --max dev/Dev=150]`,
      );
    }
  }
  return args;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const report = buildCostReport(readAssembly(path.resolve(args.assembly)));
  process.stdout.write(`${args.json ? JSON.stringify(report, null, 2) : formatCostReport(report)}\n`);
  let status = 0;
  for (const limit of args.max) {
    const violation = costLimitViolation(report, limit);
    if (violation) {
      console.error(violation);
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
