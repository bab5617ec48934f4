/**
 * Command-line parsing for `npm run ops -- <command> --env <env>`. Pure: no AWS, no process access.
 * Every mistake is a UsageError whose message names the argument and what to do.
 */
import { ENV_NAMES, type EnvName } from '../../lib/config/environment-config';

export type DmsVerb = 'start' | 'stop' | 'resume';

export interface Target {
  readonly env: EnvName;
  /** A sandbox stage (`-c sandbox=<name>`) instead of the pipeline's stage. */
  readonly sandbox?: string;
  /** Overrides the environment's configured region. */
  readonly region?: string;
}

export type Command =
  | { readonly kind: 'help' }
  | ({ readonly kind: 'status' } & Target)
  | ({ readonly kind: 'dms'; readonly verb: DmsVerb; readonly yesIMeanProd: boolean } & Target)
  | ({ readonly kind: 'approve'; readonly yesIMeanProd: boolean } & Target);

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n\n${USAGE}`);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: npm run ops -- <command> --env <${ENV_NAMES.join('|')}> [options]

Commands:
  status                 pipeline stages, pending approvals and smoke tests, DMS task state and CDC latency,
                         last workflow executions
  dms start              first start of the replication task (full load + CDC); only from status ready
  dms stop               stop a running task (CDC stops; resume later without losing position)
  dms resume             resume a stopped task from its checkpoint
  approve <stage>        approve the pending promotion to <stage> (staging or prod) in the pipeline

Options:
  --env <name>           environment (required; for approve, <stage> may stand in for it)
  --sandbox <name>       act on the sandbox stage Sandbox-<name> instead of the pipeline's stage
  --region <region>      override the environment's configured region
  --yes-i-mean-prod      confirm a prod change without the interactive prompt
  --help                 this text`;

const SANDBOX = /^[a-z][a-z0-9-]{0,19}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

export function parseArgs(argv: readonly string[]): Command {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  const valued = new Set(['--env', '--sandbox', '--region']);
  const flags = new Set(['--yes-i-mean-prod', '--help', '-h']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('-')) {
      const [name, inline] = arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg];
      if (flags.has(name!)) options.set(name!, true);
      else if (valued.has(name!)) {
        const value = inline ?? argv[++i];
        if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
        options.set(name!, value);
      } else throw new UsageError(`unknown option ${name}`);
    } else positional.push(arg);
  }
  if (options.has('--help') || options.has('-h') || positional.length === 0) return { kind: 'help' };

  const [command, ...rest] = positional;
  const envOption = options.get('--env') as string | undefined;
  const yesIMeanProd = options.has('--yes-i-mean-prod');
  const target = (envName: string | undefined): Target => {
    if (envName === undefined) throw new UsageError(`${command} needs --env <${ENV_NAMES.join('|')}>`);
    if (!(ENV_NAMES as readonly string[]).includes(envName)) {
      throw new UsageError(`--env '${envName}' is not an environment; use one of ${ENV_NAMES.join(', ')}`);
    }
    const sandbox = options.get('--sandbox') as string | undefined;
    if (sandbox !== undefined && !SANDBOX.test(sandbox)) {
      throw new UsageError(`--sandbox '${sandbox}' is not a sandbox name (lowercase letters, digits, '-'; at most 20)`);
    }
    const region = options.get('--region') as string | undefined;
    if (region !== undefined && !REGION.test(region)) throw new UsageError(`--region '${region}' is not a region name`);
    return {
      env: envName as EnvName,
      ...(sandbox !== undefined ? { sandbox } : {}),
      ...(region !== undefined ? { region } : {}),
    };
  };
  const noMore = (allowed: number) => {
    if (rest.length > allowed) throw new UsageError(`unexpected argument '${rest[allowed]}' after ${command}`);
  };

  switch (command) {
    case 'status':
      noMore(0);
      return { kind: 'status', ...target(envOption) };
    case 'dms': {
      const verb = rest[0];
      if (verb !== 'start' && verb !== 'stop' && verb !== 'resume') {
        throw new UsageError(
          verb === undefined
            ? 'dms needs a verb: start, stop or resume'
            : `dms '${verb}' is unknown; use start, stop or resume`,
        );
      }
      noMore(1);
      return { kind: 'dms', verb, yesIMeanProd, ...target(envOption) };
    }
    case 'approve': {
      const stage = rest[0];
      if (stage === undefined)
        throw new UsageError('approve needs the stage to promote to: approve staging | approve prod');
      if (stage !== 'staging' && stage !== 'prod') {
        throw new UsageError(
          `approve '${stage}': only staging and prod wait for an approval (dev deploys without one)`,
        );
      }
      if (envOption !== undefined && envOption !== stage) {
        throw new UsageError(`approve ${stage} with --env ${envOption}: the two name different environments`);
      }
      noMore(1);
      return { kind: 'approve', yesIMeanProd, ...target(stage) };
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}
