// What handler bundles get for `import ... from 'zod'` (BUNDLE_OPTIONS.alias in lib/constructs/migration-function.ts):
// zod 4.6.7's entry without its `locales` namespace. Powertools imports `{ z }` and uses it as an object, which
// makes esbuild keep every export of that namespace, and through `z.locales` and `z.core.locales` every one of the
// 64 locales (about 260 KB of a 780 KB bundle). English, the one used, is set by the schemas themselves.
// test/constructs/zod-bundle.test.ts holds these files to zod's export lists, so an upgrade cannot drift past them.
import * as z from './external.mjs';
export * from './external.mjs';
export { z, z as default };
