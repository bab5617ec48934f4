#!/usr/bin/env node
/**
 * Runs shell commands at the same time and fails if any fails: for the single-threaded checks of
 * `npm test` and `npm run lint` (tsc beside the Python tests, ESLint beside Prettier), which on a
 * 2-core machine otherwise leave a core idle. The first command prints as it runs; the others'
 * output is held and printed whole, in the order given, once each ends, so logs never interleave.
 *
 *   node scripts/run-together.mjs "npm run typecheck" "npm run test:glue"
 *
 * Exits with the first non-zero exit code, in the order given (1 for a command killed by a signal),
 * after every command has ended.
 */
import { spawn } from 'node:child_process';

const commands = process.argv.slice(2);
if (commands.length === 0) {
  console.error('usage: node scripts/run-together.mjs "<command>" ["<command>" ...]');
  process.exit(2);
}

const children = [];
const runs = commands.map(
  (command, i) =>
    new Promise((resolve) => {
      const live = i === 0;
      const child = spawn(command, { shell: true, stdio: live ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      const output = [];
      child.stdout?.on('data', (chunk) => output.push(chunk));
      child.stderr?.on('data', (chunk) => output.push(chunk));
      child.on('error', (error) => {
        output.push(Buffer.from(`${command}: ${error.message}\n`));
        resolve({ command, code: 1, output });
      });
      child.on('close', (code) => resolve({ command, code: code ?? 1, output }));
    }),
);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    process.exit(1);
  });
}

let exitCode = 0;
for (const [i, run] of runs.entries()) {
  const { command, code, output } = await run;
  if (i > 0) {
    process.stdout.write(`\n> ${command}\n`);
    process.stdout.write(Buffer.concat(output));
  }
  if (code !== 0) {
    process.stderr.write(`\n${command} failed (exit ${code})\n`);
    if (exitCode === 0) exitCode = code;
  }
}
process.exit(exitCode);
