/** True when `error` is an SDK (or other) error with one of `names`; SDK v3 errors carry the service's error code as `name`. */
export function hasErrorName(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** `name: message` for logs and alerts, without stack traces. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
