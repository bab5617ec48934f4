import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { bundleOptions, PROJECT_ROOT } from '../../lib/constructs/migration-function';
import * as events from '../../lambda/shared/events';
import { loadEvent } from '../fixtures/events';

// Handler bundles take zod from lambda/shared/zod-bundle (zod without its locales). These hold that copy to
// zod's own export lists and check that event parsing behaves the same in a bundle as it does from source.

const ZOD_BUNDLE = path.join(PROJECT_ROOT, 'lambda', 'shared', 'zod-bundle');
const ZOD = path.join(PROJECT_ROOT, 'node_modules', 'zod');

/** The names an ES module exports, as esbuild reads them. */
function exportsOf(entry: string): string[] {
  const result = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    metafile: true,
    outdir: os.tmpdir(),
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs)
    .flatMap((o) => o.exports)
    .sort();
}

describe('zod in the handler bundles', () => {
  test.each([
    ['the entry', path.join(ZOD, 'index.js'), path.join(ZOD_BUNDLE, 'index.mjs')],
    ['z', path.join(ZOD, 'v4', 'classic', 'external.js'), path.join(ZOD_BUNDLE, 'external.mjs')],
    ['z.core', path.join(ZOD, 'v4', 'core', 'index.js'), path.join(ZOD_BUNDLE, 'core.mjs')],
  ])('%s exports what zod exports, locales aside', (_name, original, copy) => {
    expect(exportsOf(copy)).toEqual(exportsOf(original).filter((name) => name !== 'locales'));
  });

  test('the bundles hold no locale but English', () => {
    const result = esbuild.buildSync({
      ...bundleOptions(),
      entryPoints: [path.join(PROJECT_ROOT, 'lambda', 'shared', 'events.ts')],
      write: false,
      metafile: true,
      outdir: os.tmpdir(),
    });
    // Files esbuild read but left out of the output have no bytes in it.
    const bundled = Object.values(result.metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([name]) => name),
    );
    const locales = bundled.filter((input) => input.includes('zod/v4/locales/'));
    expect(locales).toEqual(['node_modules/zod/v4/locales/en.js']);
  });

  test('a bundle parses events and names what is wrong as the source does', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zod-bundle-'));
    try {
      esbuild.buildSync({
        ...bundleOptions(),
        entryPoints: { events: path.join(PROJECT_ROOT, 'lambda', 'shared', 'events.ts') },
        outdir,
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bundled = require(path.join(outdir, 'events.js')) as typeof events;
      const valid = loadEvent<{ detail: { object: Record<string, unknown> } }>('s3-object-created');
      expect(bundled.parseS3ObjectCreatedEvent(valid)).toEqual(events.parseS3ObjectCreatedEvent(valid));

      const broken = [
        { ...valid, detail: { ...valid.detail, object: { ...valid.detail.object, key: undefined } } },
        { ...valid, detail: { ...valid.detail, object: { ...valid.detail.object, size: 'large' } } },
        { ...valid, time: 42 },
        'not an event',
      ];
      const messageOf = (parse: (value: unknown) => unknown, value: unknown) => {
        try {
          parse(value);
          return 'parsed';
        } catch (error) {
          return (error as Error).message;
        }
      };
      for (const value of broken) {
        const fromSource = messageOf(events.parseS3ObjectCreatedEvent, value);
        expect(fromSource).not.toBe('parsed');
        expect(messageOf(bundled.parseS3ObjectCreatedEvent, value)).toBe(fromSource);
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
