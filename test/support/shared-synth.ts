/**
 * One synthesis per test run, shared by every jest worker (docs/adr/0014).
 *
 * Jest gives each test file its own module registry, so a per-file memo still synthesizes the same
 * stage once per suite. `test/support/global-setup.ts` creates one empty folder per run and names it
 * in `TEST_SHARED_SYNTH_DIR`; the first worker that needs a result builds it under a lock and writes
 * it there as JSON, the others wait for that file and read it. The folder is removed at the end of
 * the run, so nothing outlives the sources it was built from. Without the variable (a test run
 * without the global setup, or `TEST_SHARED_SYNTH=off`) every call builds in-process, memoized per file.
 * A suite that must build in its own process (it needs the construct tree) offers its result with
 * `offerSharedSynth`, so the same stage is not built a second time for the suites that read templates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Environment variable that names this run's shared folder (set by the jest global setup). */
export const SHARED_SYNTH_DIR_ENV = 'TEST_SHARED_SYNTH_DIR';

/** How long a worker waits for another worker's build before building itself. */
const WAIT_LIMIT_MS = 10 * 60 * 1000;
const POLL_MS = 50;

const memo = new Map<string, unknown>();

/** Where this run's shared results live, or undefined when sharing is off. */
export function sharedSynthDir(): string | undefined {
  if (process.env.TEST_SHARED_SYNTH === 'off') return undefined;
  const dir = process.env[SHARED_SYNTH_DIR_ENV];
  return dir && fs.existsSync(dir) ? dir : undefined;
}

/** Blocks this thread for `ms` milliseconds. */
export function sleep(ms: number): void {
  // Synchronous: fixtures are called while jest collects tests (describe bodies), which cannot await.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockOwner(lock: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The result of `build()` for `key`, built once per test run across all workers. `build` must return
 * plain JSON data (templates, manifest fields), because other processes read it back with
 * `JSON.parse`; construct objects cannot cross processes. A build that throws is not recorded: every
 * caller then builds (and fails) itself, so each suite reports the error.
 */
export function sharedSynth<T>(key: string, build: () => T): T {
  if (memo.has(key)) return memo.get(key) as T;
  const dir = sharedSynthDir();
  const result = dir ? readOrBuild(dir, key, build) : build();
  memo.set(key, result);
  return result;
}

function paths(dir: string, key: string): { file: string; lock: string } {
  const name = key.replace(/[^A-Za-z0-9_.-]/g, '_');
  return { file: path.join(dir, `${name}.json`), lock: path.join(dir, `${name}.lock`) };
}

function record(file: string, result: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(result));
  fs.renameSync(tmp, file); // readers never see a partial file
}

function readOrBuild<T>(dir: string, key: string, build: () => T): T {
  const { file, lock } = paths(dir, key);
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
    try {
      fs.mkdirSync(lock); // atomic: exactly one worker gets it
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = lockOwner(lock);
      // The owner died mid-build, or is far too slow: build here rather than wait forever.
      if ((owner !== undefined && !isAlive(owner)) || Date.now() > deadline) return build();
      sleep(POLL_MS);
      continue;
    }
    try {
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      const result = build();
      record(file, result);
      return result;
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}

/**
 * Records under `key` what this process had to build for itself anyway (a suite that asserts on the
 * construct tree synthesizes in its own process), so that the suites which only read templates take it
 * instead of synthesizing the same thing again. `toJson` must give what `sharedSynth(key, build)` would
 * have built. Does nothing when sharing is off, the result is already there, or another worker holds the
 * lock (it is building the same thing).
 */
export function offerSharedSynth<T>(key: string, toJson: () => T): void {
  const dir = sharedSynthDir();
  if (!dir) return;
  const { file, lock } = paths(dir, key);
  if (fs.existsSync(file)) return;
  try {
    fs.mkdirSync(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw e;
  }
  try {
    record(file, toJson());
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
