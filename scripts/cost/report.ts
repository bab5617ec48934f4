import { AssemblyStack } from './assembly';
import { loadPriceTable, PriceBasis, PriceTable, UsagePrice } from './price-table';
import { NotPriced, ResourcePricer } from './pricing';

/** One priced resource type of a stack: its line items with one label and unit price, added up. */
export interface CostLine {
  readonly item: string;
  /** How many resources contribute. */
  readonly resources: number;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  readonly monthly: number;
  readonly basis: PriceBasis;
}

export interface StackCost {
  readonly stack: string;
  readonly stackName: string;
  readonly region: string;
  readonly fixed: CostLine[];
  readonly notPriced: NotPriced[];
  readonly fixedMonthly: number;
  /** Resource types of the stack that cost by use (unit prices in the report's `usage`). */
  readonly usageTypes: string[];
}

export interface StageCost {
  readonly stage: string;
  readonly stacks: StackCost[];
  readonly fixedMonthly: number;
  readonly notPriced: number;
}

export interface EnvironmentCost {
  readonly environment: string;
  readonly stages: StageCost[];
  /** Sum of everything priced; items "not priced" are not in it (see `notPriced`). */
  readonly fixedMonthly: number;
  readonly notPriced: number;
}

export interface CostReport {
  readonly currency: 'USD';
  readonly hoursPerMonth: number;
  readonly priceTables: { region: string; date: string; source: string }[];
  readonly environments: EnvironmentCost[];
  /** Unit prices of the usage-driven items present in the assembly, by region and resource type. */
  readonly usage: { region: string; type: string; prices: readonly UsagePrice[] }[];
}

export interface ReportOptions {
  /** Region of stacks without one (environment-agnostic). @default 'us-west-2' */
  readonly defaultRegion?: string;
  /** Loads the table of a region. @default the checked-in tables */
  readonly priceTable?: (region: string) => PriceTable;
}

/** Prices every stack of an assembly and groups the result by environment, stage and stack. */
export function buildCostReport(stacks: readonly AssemblyStack[], options: ReportOptions = {}): CostReport {
  const load = options.priceTable ?? ((r: string) => loadPriceTable(r));
  const tables = new Map<string, PriceTable>();
  const tableOf = (region: string) => {
    let t = tables.get(region);
    if (!t) tables.set(region, (t = load(region)));
    return t;
  };
  const envs = new Map<string, Map<string, StackCost[]>>();
  const usage = new Map<string, { region: string; type: string; prices: readonly UsagePrice[] }>();

  for (const s of stacks) {
    const region = s.region ?? options.defaultRegion ?? 'us-west-2';
    const table = tableOf(region);
    const pricer = new ResourcePricer(table, s.template);
    const lines = new Map<string, CostLine & { ids: Set<string> }>();
    const notPriced: NotPriced[] = [];
    const usageTypes = new Set<string>();
    for (const [id, resource] of Object.entries(s.template.Resources ?? {})) {
      const cost = pricer.price(id, resource);
      notPriced.push(...cost.notPriced);
      if (cost.usage) {
        usageTypes.add(resource.Type);
        const prices = table.usage[resource.Type];
        if (prices) usage.set(`${region}|${resource.Type}`, { region, type: resource.Type, prices });
      }
      for (const li of cost.fixed) {
        const key = `${li.item}|${li.unit}|${li.unitPrice}`;
        const prev = lines.get(key);
        lines.set(key, {
          item: li.item,
          unit: li.unit,
          unitPrice: li.unitPrice,
          basis: li.basis,
          ids: (prev?.ids ?? new Set<string>()).add(li.resource),
          resources: 0,
          quantity: (prev?.quantity ?? 0) + li.quantity,
          monthly: (prev?.monthly ?? 0) + li.monthly,
        });
      }
    }
    const fixed = [...lines.values()]
      .map(({ ids, ...line }) => ({ ...line, resources: ids.size }))
      .sort((a, b) => b.monthly - a.monthly || a.item.localeCompare(b.item));
    const stackCost: StackCost = {
      stack: s.stack,
      stackName: s.stackName,
      region,
      fixed,
      notPriced,
      fixedMonthly: sum(fixed.map((l) => l.monthly)),
      usageTypes: [...usageTypes].sort(),
    };
    const stages = envs.get(s.environment) ?? new Map<string, StackCost[]>();
    envs.set(s.environment, stages);
    stages.set(s.stage, [...(stages.get(s.stage) ?? []), stackCost]);
  }

  const environments = [...envs.entries()].map(([environment, stages]) => {
    const stageCosts = [...stages.entries()].map(([stage, stackCosts]) => ({
      stage,
      stacks: stackCosts,
      fixedMonthly: sum(stackCosts.map((c) => c.fixedMonthly)),
      notPriced: sum(stackCosts.map((c) => c.notPriced.length)),
    }));
    return {
      environment,
      stages: stageCosts,
      fixedMonthly: sum(stageCosts.map((c) => c.fixedMonthly)),
      notPriced: sum(stageCosts.map((c) => c.notPriced)),
    };
  });
  const first = tables.values().next().value as PriceTable | undefined;
  return {
    currency: 'USD',
    hoursPerMonth: first?.hoursPerMonth ?? 730,
    priceTables: [...tables.values()].map((t) => ({ region: t.region, date: t.date, source: t.source })),
    environments,
    usage: [...usage.values()].sort((a, b) => a.region.localeCompare(b.region) || a.type.localeCompare(b.type)),
  };
}

/**
 * A ceiling on an environment's fixed monthly cost (`dev=150`), or on one stage of it (`dev/Dev=150`:
 * the stage whose construct path is or ends in `Dev`, i.e. `Pipeline/Dev` and not `Pipeline/DevPayment`).
 */
export interface CostLimit {
  readonly environment: string;
  readonly stage?: string;
  readonly maxUsd: number;
}

/** Parses `<env>=<usd>` or `<env>/<stage>=<usd>`; undefined when the text is neither. */
export function parseCostLimit(text: string): CostLimit | undefined {
  const m = /^([\w-]+)(?:\/([\w-]+))?=(\d+(?:\.\d+)?)$/.exec(text);
  if (!m) return undefined;
  return { environment: m[1]!, ...(m[2] ? { stage: m[2] } : {}), maxUsd: Number(m[3]) };
}

/** Why the report breaks a limit (above it, items not priced, or nothing it names); undefined when it holds. */
export function costLimitViolation(report: CostReport, limit: CostLimit): string | undefined {
  const env = report.environments.find((e) => e.environment === limit.environment);
  const name = limit.stage ? `${limit.environment}/${limit.stage}` : limit.environment;
  if (!env) return `${name}: no environment "${limit.environment}" in the assembly`;
  const scope = limit.stage
    ? env.stages.find((s) => s.stage === limit.stage || s.stage.endsWith(`/${limit.stage}`))
    : env;
  if (!scope) return `${name}: no stage "${limit.stage}" in ${env.stages.map((s) => s.stage).join(', ')}`;
  if (scope.fixedMonthly <= limit.maxUsd && scope.notPriced === 0) return undefined;
  return `${name}: fixed cost ${usd(scope.fixedMonthly)} a month with ${scope.notPriced} item(s) not priced; the limit is $${limit.maxUsd} with none unpriced`;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const usd = (n: number) => `$${n.toFixed(2)}`;
const unitUsd = (n: number) => `$${Number(n.toPrecision(4))}`;
const qty = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** The report as text: per environment, stage and stack, then the usage-driven unit prices. */
export function formatCostReport(report: CostReport): string {
  const out: string[] = [];
  const w = (s = '') => out.push(s);
  w(`Fixed monthly cost (USD, ${report.hoursPerMonth} h a month, list prices, no free tier)`);
  for (const t of report.priceTables) w(`Prices: ${t.region} table of ${t.date}`);
  for (const env of report.environments) {
    w();
    const np = env.notPriced > 0 ? ` + ${env.notPriced} item(s) not priced` : '';
    w(`== Environment ${env.environment}: ${usd(env.fixedMonthly)} a month${np}`);
    for (const stage of env.stages) {
      w(`  Stage ${stage.stage}: ${usd(stage.fixedMonthly)}`);
      for (const s of stage.stacks) {
        if (s.fixed.length === 0 && s.notPriced.length === 0) continue;
        w(`    ${s.stack} (${s.stackName}, ${s.region}): ${usd(s.fixedMonthly)}`);
        for (const l of s.fixed) {
          const mark = l.basis === 'estimate' ? ' (est.)' : '';
          w(
            `      ${l.item.padEnd(66)} ${qty(l.quantity).padStart(7)} ${l.unit.padEnd(16)} x ${unitUsd(l.unitPrice).padEnd(9)} ${usd(l.monthly).padStart(10)}${mark}`,
          );
        }
        for (const n of s.notPriced) w(`      ${`${n.item} [${n.resource}]`.padEnd(66)} not priced: ${n.reason}`);
      }
    }
  }
  w();
  w('Usage-driven items (not in the totals), unit prices:');
  for (const u of report.usage) {
    for (const p of u.prices) {
      w(`  ${u.region}  ${u.type.padEnd(40)} ${p.item.padEnd(66)} ${unitUsd(p.usd)} / ${p.unit}`);
    }
  }
  w();
  w('Totals:');
  for (const env of report.environments) {
    const np = env.notPriced > 0 ? ` (+ ${env.notPriced} not priced)` : '';
    w(`  ${env.environment.padEnd(12)} ${usd(env.fixedMonthly).padStart(10)}${np}`);
  }
  return out.join('\n');
}
