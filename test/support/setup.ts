import './polyfills';

// Unit tests synthesize many apps; the built-in CloudFormation validator costs seconds per app.
// The real synth (`npx cdk synth`) and one dedicated test keep it on.
process.env.CDK_VALIDATION ??= 'false';

// aws-cdk-lib writes "Bundling asset <path>..." to stderr for every handler it stages, unconditionally;
// in tests that floods the output (dozens of lines per synthesized stage). Only those lines are
// dropped: everything else written to stderr, and any bundling error (thrown), still shows.
const BUNDLING_LINE = /^Bundling asset \S+\.\.\.\r?\n$/;
const stderrWrite = process.stderr.write;
if (!(stderrWrite as { quietBundling?: true }).quietBundling) {
  const quiet = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === 'string' && BUNDLING_LINE.test(chunk)) return true;
    return (stderrWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  process.stderr.write = Object.assign(quiet, { quietBundling: true as const }) as typeof process.stderr.write;
}

// Deployed functions get their metrics namespace from MigrationFunction; handlers imported by tests
// get the same here, so Powertools does not print a warning per invocation (thousands in the burst simulation).
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'MigrationPlatform';
