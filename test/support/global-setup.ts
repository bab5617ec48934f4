import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SHARED_SYNTH_DIR_ENV } from './shared-synth';

/**
 * One empty folder per jest run for the stages the suites share (test/support/shared-synth.ts).
 * Workers start after this and inherit the variable. Nothing is synthesized here: a run of one
 * suite builds only what that suite asks for.
 */
export default function globalSetup(): void {
  process.env[SHARED_SYNTH_DIR_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-shared-'));
}
