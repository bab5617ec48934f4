import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';

/** Version of the plugin whose JavaScript turns cfn-guard's output into findings. */
const PLUGIN_VERSION: string = (
  JSON.parse(fs.readFileSync(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'), 'utf8')) as {
    version: string;
  }
).version;

/**
 * A content-addressed store of validation-plugin reports: one JSON file per key, template paths stored by
 * position and put back on a hit (every synth writes its templates somewhere else). What goes into a key
 * is the subclass's business ({@link GuardReportCache}, and TemplateValidationCache in
 * template-validation-cache.ts). Entries unused for {@link MAX_AGE_DAYS} days are removed on the first use
 * of a folder in a process.
 */
export class ReportCache {
  static readonly MAX_AGE_DAYS = 14;
  private static readonly PATH_MARK = '\u0000template:';
  private static readonly pruned = new Set<string>();

  /** @param dir folder of the entries, created on the first write */
  constructor(readonly dir: string) {}

  /** The stored report of this key with the templates at these paths; undefined on a miss or an unreadable entry. */
  get<R = PolicyValidationPluginReportBeta1>(key: string, templatePaths: readonly string[]): R | undefined {
    this.prune();
    const file = this.file(key);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const report = JSON.parse(text, (_k, v: unknown) => {
        if (typeof v !== 'string' || !v.startsWith(ReportCache.PATH_MARK)) return v;
        const p = templatePaths[Number(v.slice(ReportCache.PATH_MARK.length))];
        if (p === undefined) throw new Error('template index out of range');
        return p;
      }) as R;
      const now = new Date();
      fs.utimesSync(file, now, now);
      return report;
    } catch {
      return undefined;
    }
  }

  /** Stores a report; its template paths must be among `templatePaths`, or nothing is stored. */
  set(key: string, templatePaths: readonly string[], report: object): void {
    const position = new Map(templatePaths.map((p, i) => [p, i]));
    let unknownPath = false;
    const text = JSON.stringify(report, (k, v: unknown) => {
      if (k !== 'templatePath' || typeof v !== 'string') return v;
      const i = position.get(v);
      if (i === undefined) unknownPath = true;
      return `${ReportCache.PATH_MARK}${i}`;
    });
    if (unknownPath) return;
    fs.mkdirSync(this.dir, { recursive: true });
    // Written aside and renamed, so a concurrent synth never reads half an entry.
    const tmp = `${this.file(key)}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, this.file(key));
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  private prune(): void {
    if (ReportCache.pruned.has(this.dir)) return;
    ReportCache.pruned.add(this.dir);
    const oldest = Date.now() - ReportCache.MAX_AGE_DAYS * 86_400_000;
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(this.dir, name);
      try {
        if (fs.statSync(file).mtimeMs < oldest) fs.rmSync(file, { force: true });
      } catch {
        // Removed by a concurrent synth; nothing to do.
      }
    }
  }
}

/**
 * A content-addressed cache of cfn-guard reports. A report depends only on the bytes of the templates,
 * the bytes of the rule files and the version of the plugin (which ships the cfn-guard binary and parses its
 * output), so those are the key; acknowledgements are not
 * in it (aws-cdk-lib applies them to the plugin's report afterwards), so a changed acknowledgement
 * never needs a new run.
 *
 * Where: `CFN_GUARD_CACHE_DIR`, default `node_modules/.cache/cfn-guard` of this project;
 * `CFN_GUARD_CACHE=off` neither reads nor writes it.
 */
export class GuardReportCache extends ReportCache {
  private static readonly ruleDigests = new Map<string, string>();

  /** The cache the environment asks for, or undefined when it is switched off. */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): GuardReportCache | undefined {
    if (env.CFN_GUARD_CACHE === 'off') return undefined;
    return new GuardReportCache(
      env.CFN_GUARD_CACHE_DIR ?? path.resolve(__dirname, '..', '..', 'node_modules', '.cache', 'cfn-guard'),
    );
  }

  /** The key of one cfn-guard run: the plugin, each rule file (name and bytes) and each template's bytes, in order. */
  key(rules: readonly string[], templatePaths: readonly string[]): string {
    const h = createHash('sha256');
    // The plugin's version stands for the cfn-guard binary it ships and for the JavaScript that turns the
    // binary's output into findings; the layout of an entry is versioned too.
    h.update(`entry v3 plugin ${PLUGIN_VERSION}\n`);
    for (const r of rules) {
      // Shipped rule files do not change while a process runs; hash each once.
      let d = GuardReportCache.ruleDigests.get(r);
      if (d === undefined) GuardReportCache.ruleDigests.set(r, (d = digest(fs.readFileSync(r))));
      h.update(`rule ${path.basename(r)} ${d}\n`);
    }
    for (const t of templatePaths) h.update(`template ${digest(fs.readFileSync(t))}\n`);
    return h.digest('hex');
  }
}

export const digest = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
