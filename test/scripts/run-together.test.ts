import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'run-together.mjs');
const together = (...commands: string[]) => {
  const r = spawnSync(process.execPath, [SCRIPT, ...commands], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('scripts/run-together.mjs (npm test and npm run lint)', () => {
  it('runs the commands at the same time and prints the held output whole, in the order given', () => {
    // The first command can only finish once the second has started: they run together.
    const flag = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'together-')), 'second-started');
    const r = together(
      `for i in $(seq 50); do [ -e ${flag} ] && break; sleep 0.1; done; [ -e ${flag} ] && echo first`,
      `touch ${flag}; echo second`,
      'echo third >&2',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^first\n\n> touch [^\n]*\nsecond\n\n> echo third >&2\nthird\n$/);
  });

  it('fails with the first failing exit code, after every command ended, and says which failed', () => {
    const r = together('true', 'exit 3', 'exit 4');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('exit 3 failed (exit 3)');
    expect(r.stderr).toContain('exit 4 failed (exit 4)');
  });

  it('says how to call it when given no command', () => {
    const r = together();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: node scripts/run-together.mjs');
  });
});
