// Jest transformer that strips TypeScript with the project's own esbuild (the same tool that bundles
// the Lambda handlers). Type errors are caught by `tsc --noEmit`, which `npm test` runs first.
// esbuild does not hoist jest.mock() above imports; tests that mock a module require it lazily.
const { transformSync } = require('esbuild');
const { createHash } = require('node:crypto');

module.exports = {
  process(source, filename) {
    const result = transformSync(source, {
      loader: 'ts',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: filename,
      keepNames: true,
    });
    return { code: result.code };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(source).update('\0').update(filename).update('\0esbuild-v1').digest('hex');
  },
};
