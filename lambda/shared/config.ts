import { requireEnv } from './env';

export { requireEnv };

/** Thrown when a variable is set but its value cannot be used; the message names it and the value. */
export class InvalidConfigError extends Error {
  constructor(name: string, value: string, expected: string) {
    super(
      `Environment variable ${name} is '${value}': expected ${expected}. It is wired by the CDK stack that deploys this function.`,
    );
    this.name = 'InvalidConfigError';
  }
}

/** An optional variable; blank counts as unset. */
function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** A required non-negative integer variable. */
function integerEnv(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const raw = requireEnv(name, env).trim();
  if (!/^\d+$/.test(raw)) throw new InvalidConfigError(name, raw, 'a non-negative integer');
  return Number.parseInt(raw, 10);
}

/** A required 'true' or 'false' (any case); anything else is a wiring mistake, not a silent false. */
function booleanEnv(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = requireEnv(name, env);
  const normalised = raw.trim().toLowerCase();
  if (normalised === 'true') return true;
  if (normalised === 'false') return false;
  throw new InvalidConfigError(name, raw, "'true' or 'false'");
}

/** The function's region; Lambda always sets AWS_REGION. */
export function regionFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return requireEnv('AWS_REGION', env);
}

/**
 * Readers of one handler's variables, typed by the environment type its `config.ts` exports: the CDK
 * construct builds the function's `environment` from the same type, so a variable renamed on either side
 * fails to compile.
 */
export function variablesOf<E extends object>(env: NodeJS.ProcessEnv = process.env) {
  type Name = keyof E & string;
  return {
    required: (name: Name) => requireEnv(name, env),
    optional: (name: Name) => optionalEnv(name, env),
    integer: (name: Name) => integerEnv(name, env),
    boolean: (name: Name) => booleanEnv(name, env),
  };
}
