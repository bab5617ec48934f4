/**
 * The custom resource's properties, as LoggingStack passes them. CloudFormation delivers every
 * scalar as a string, so numbers are parsed here and every problem is named before any call.
 */
export interface SetupProps {
  /** Domain endpoint host name without scheme, e.g. `vpc-audit-abc.us-west-2.es.amazonaws.com`. */
  readonly endpoint: string;
  /** Index pattern the ISM policy and the writer role cover, e.g. `audit-*`. */
  readonly indexPattern: string;
  /** Days an index lives before ISM deletes it. */
  readonly retentionDays: number;
  /** Replica count for new audit indices (0 on a single-node domain, or the index never turns green). */
  readonly replicas: number;
  /** IAM role Firehose delivers with; mapped to the `audit_writer` role. */
  readonly firehoseRoleArn: string;
  /** Optional IAM role of human administrators; mapped to `all_access` and `security_manager`. */
  readonly adminRoleArn?: string;
}

export class InvalidSetupPropsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid OpenSearch setup properties: ${problems.join('; ')}`);
    this.name = 'InvalidSetupPropsError';
  }
}

const HOST = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const INDEX_PATTERN = /^[a-z0-9][a-z0-9_-]*\*$/;

/** Parses the custom resource properties; throws `InvalidSetupPropsError` listing every bad field. */
export function parseSetupProps(raw: Record<string, unknown>): SetupProps {
  const problems: string[] = [];
  const text = (key: string): string | undefined => {
    const v = raw[key];
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (typeof v === 'number') return String(v);
    return undefined;
  };
  const required = (key: string, pattern: RegExp, expected: string): string => {
    const v = text(key);
    if (v === undefined || !pattern.test(v))
      problems.push(`${key}: expected ${expected}, got ${JSON.stringify(raw[key])}`);
    return v ?? '';
  };
  const integer = (key: string, min: number, max: number): number => {
    const v = text(key);
    const n = v === undefined ? NaN : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw[key])}`);
    }
    return n;
  };

  const endpoint = required('Endpoint', HOST, 'a domain endpoint host name without scheme');
  const indexPattern = required('IndexPattern', INDEX_PATTERN, 'a lowercase index prefix ending in *');
  const retentionDays = integer('RetentionDays', 1, 3650);
  const replicas = integer('Replicas', 0, 5);
  const firehoseRoleArn = required('FirehoseRoleArn', ROLE_ARN, 'an IAM role ARN');
  const admin = text('AdminRoleArn');
  if (admin !== undefined && !ROLE_ARN.test(admin)) {
    problems.push(`AdminRoleArn: expected an IAM role ARN or nothing, got ${JSON.stringify(admin)}`);
  }
  if (problems.length > 0) throw new InvalidSetupPropsError(problems);
  return {
    endpoint,
    indexPattern,
    retentionDays,
    replicas,
    firehoseRoleArn,
    ...(admin !== undefined ? { adminRoleArn: admin } : {}),
  };
}
