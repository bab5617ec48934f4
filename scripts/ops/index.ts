/**
 * Operator commands: `npm run ops -- <command> --env <env>`. See docs/operator-cli.md.
 */
import { createInterface } from 'node:readline/promises';
import { runCli } from './cli';
import { createClients } from './clients';

async function confirm(question: string): Promise<boolean> {
  // Without a terminal nobody can answer: refuse rather than hang or assume yes.
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === 'prod';
  } finally {
    rl.close();
  }
}

runCli(process.argv.slice(2), {
  clients: createClients,
  confirm,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
  now: () => new Date(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error('ops crashed:', e);
    process.exitCode = 1;
  },
);
