/** Thrown when a handler is deployed without a variable it needs; the message names it. */
export class MissingConfigError extends Error {
  constructor(name: string) {
    super(
      `Environment variable ${name} is not set. The construct that creates this function sets it from the ` +
        `environment type in the handler's config.ts (handlerEnvironment): deploy the function through that ` +
        `construct, or set ${name} when running the handler anywhere else.`,
    );
    this.name = 'MissingConfigError';
  }
}

/** Reads a required environment variable at call time (tests set them per case). */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new MissingConfigError(name);
  return v;
}
