import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** `documentation`: the figure the AWS price page states for the region; `estimate`: not re-checked for it. */
export type PriceBasis = 'documentation' | 'estimate';

export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly basis: PriceBasis;
  readonly note?: string;
}

export interface UsagePrice {
  readonly item: string;
  readonly unit: string;
  readonly usd: number;
  readonly basis: PriceBasis;
}

/** `scripts/cost/prices/<region>.json`. */
export interface PriceTable {
  readonly region: string;
  readonly currency: 'USD';
  /** Day the figures were taken (ISO date). */
  readonly date: string;
  /** Where the figures come from and how far to trust them. */
  readonly source: string;
  /** Hours billed in a month (AWS uses 730). */
  readonly hoursPerMonth: number;
  /** Prices of resources that cost money whether used or not, by key (`ec2.natGateway`, `ec2.m5.2xlarge`). */
  readonly fixed: Readonly<Record<string, Price>>;
  /** Unit prices of what depends on traffic or data, by resource type. */
  readonly usage: Readonly<Record<string, readonly UsagePrice[]>>;
  /** Storage included with each DMS replication instance, by class family (`t3`: 50). */
  readonly dmsIncludedStorageGb: Readonly<Record<string, number | string>>;
}

export const PRICES_DIR = path.join(__dirname, 'prices');

/** Loads the price table of a region; a missing table is an error that names the file to add. */
export function loadPriceTable(region: string, dir = PRICES_DIR): PriceTable {
  const file = path.join(dir, `${region}.json`);
  if (!existsSync(file)) {
    throw new Error(
      `No price table for ${region}: add ${path.relative(process.cwd(), file)} (copy us-west-2.json and set that region's figures).`,
    );
  }
  const table = JSON.parse(readFileSync(file, 'utf8')) as PriceTable;
  if (table.region !== region || !table.date || !table.source || !(table.hoursPerMonth > 0) || !table.fixed) {
    throw new Error(`${file}: expected region "${region}", a date, a source, hoursPerMonth and fixed prices.`);
  }
  return table;
}
