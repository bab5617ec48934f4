import * as fs from 'node:fs';
import { SHARED_SYNTH_DIR_ENV } from './shared-synth';

/** Removes this run's shared stages (and their cloud assemblies) so no later run reads them. */
export default function globalTeardown(): void {
  const dir = process.env[SHARED_SYNTH_DIR_ENV];
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  delete process.env[SHARED_SYNTH_DIR_ENV];
}
