import { MissingConfigError, requireEnv } from './env';

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
export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** A non-negative integer variable; without a fallback it is required. */
export function integerEnv(name: string, fallback: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return orMissing(name, fallback);
  if (!/^\d+$/.test(raw.trim())) throw new InvalidConfigError(name, raw, 'a non-negative integer');
  return Number.parseInt(raw.trim(), 10);
}

/** 'true' or 'false' (any case); anything else is a wiring mistake, not a silent false. Without a fallback it is required. */
export function booleanEnv(name: string, fallback: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return orMissing(name, fallback);
  const normalised = raw.trim().toLowerCase();
  if (normalised === 'true') return true;
  if (normalised === 'false') return false;
  throw new InvalidConfigError(name, raw, "'true' or 'false'");
}

function orMissing<T>(name: string, fallback: T | undefined): T {
  if (fallback === undefined) throw new MissingConfigError(name);
  return fallback;
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
    integer: (name: Name) => integerEnv(name, undefined, env),
    boolean: (name: Name) => booleanEnv(name, undefined, env),
  };
}
