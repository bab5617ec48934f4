/** Errors the operator can act on: each says what went wrong and what to do. */
export class OpsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpsError';
  }
}

const errorName = (e: unknown): string => (e instanceof Error ? e.name : '');
const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Turns an SDK or CLI failure into one line for the operator. `where` says what was being done
 * (e.g. "reading stack Dev-Dms in us-west-2").
 */
export function explainFailure(e: unknown, where: string): string {
  const name = errorName(e);
  const message = errorMessage(e);
  if (e instanceof OpsError || name === 'UsageError') return message;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return `No AWS credentials found while ${where}. Sign in first (e.g. 'aws sso login --profile <profile>' and AWS_PROFILE=<profile>), or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.`;
  }
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException' || /security token.*expired/i.test(message)) {
    return `The AWS session has expired while ${where}. Sign in again and retry.`;
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || /not authorized to perform/i.test(message)) {
    return `Access denied while ${where}: ${message}. Use credentials for the environment's account with the operator permissions (docs/operator-cli.md).`;
  }
  return `Failed while ${where}: ${name ? `${name}: ` : ''}${message}`;
}

/** CloudFormation answers DescribeStacks for a missing stack with a ValidationError. */
export function isMissingStack(e: unknown): boolean {
  return errorName(e) === 'ValidationError' && /does not exist/i.test(errorMessage(e));
}
