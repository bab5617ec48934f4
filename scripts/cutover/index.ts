/** Entry of `npm run cutover -- <command> --env <env>` (see cli.ts). */
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { explain, parseArgs, runCommand } from './cli';

async function main(): Promise<number> {
  try {
    const args = parseArgs(process.argv.slice(2));
    const config = { region: args.region };
    await runCommand(
      args,
      { sfn: new SFNClient(config), ssm: new SSMClient(config), sts: new STSClient(config) },
      (l) => console.log(l),
    );
    return 0;
  } catch (e) {
    console.error(explain(e));
    return 1;
  }
}

// main() reports its own errors and resolves to the exit code; it never rejects.
void main().then((code) => {
  process.exitCode = code;
});
