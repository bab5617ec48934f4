/** Thrown when a handler is deployed without a variable it needs; the message names it. */
export class MissingConfigError extends Error {
  constructor(name: string) {
    super(`Environment variable ${name} is not set; it is wired by the CDK stack that deploys this function.`);
    this.name = 'MissingConfigError';
  }
}

/** Reads a required environment variable at call time (tests set them per case). */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new MissingConfigError(name);
  return v;
}
