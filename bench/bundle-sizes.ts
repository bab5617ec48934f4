// Bytes of each handler bundle as MigrationFunction builds it, and which packages they come from
// (esbuild metafile). Sizes do not depend on the machine; run it before and after a dependency or bundling change.
//   npx tsx bench/bundle-sizes.ts [handler ...] [--top N]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { bundleOptions, handlerEntries } from '../lib/constructs/migration-function';

/** `node_modules/@scope/name/...` or `node_modules/name/...` as the package name; project files as `(project)`. */
function packageOf(input: string): string {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return '(project)';
  const name = parts[at + 1] ?? '?';
  return name.startsWith('@') ? `${name}/${parts[at + 2]}` : name;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 5;
const wanted = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));
const entries = Object.entries(handlerEntries()).filter(([name]) => wanted.length === 0 || wanted.includes(name));
if (entries.length === 0) throw new Error(`No handler named ${wanted.join(', ')}; see lambda/*/index.ts`);

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-sizes-'));
const result = esbuild.buildSync({
  ...bundleOptions(),
  entryPoints: Object.fromEntries(entries.map(([name, entry]) => [`${name}/index`, entry])),
  outdir,
  metafile: true,
  write: false,
});
fs.rmSync(outdir, { recursive: true, force: true });

for (const [file, output] of Object.entries(result.metafile.outputs).sort(([a], [b]) => a.localeCompare(b))) {
  if (!file.endsWith('index.js')) continue;
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
  }
  const largest = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`);
  console.log(
    `${path.relative(outdir, file).replace(/\/index\.js$/, '')}: ${kb(output.bytes)} (${largest.join(', ')})`,
  );
}
