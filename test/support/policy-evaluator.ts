/**
 * A small evaluator of resource-policy statements as they appear in a synthesized template, for the question
 * "would AWS allow this service principal to do this action, with this request context?". It covers what our
 * policies use: Allow/Deny, Principal Service/AWS/*, Action with wildcards, and the condition operators
 * StringEquals, StringLike, ArnEquals, ArnLike and their IfExists forms, plus Bool(IfExists). Anything else
 * throws, so an unsupported policy never passes by accident. Resources are not compared (a topic or key
 * policy names its own resource).
 */
export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface Request {
  readonly servicePrincipal: string;
  readonly action: string;
  /** Condition keys and their values; a key not given is absent from the request. */
  readonly context: Readonly<Record<string, string>>;
}

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function wildcard(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    caseInsensitive ? 'i' : '',
  );
  return re.test(value);
}

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };

/** Strings, `Fn::Join` and `Ref` to the partition: what a stack with a concrete env writes into conditions. */
function resolvePseudo(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (o.Ref !== undefined) return PSEUDO[o.Ref];
  if (o['Fn::Join']) {
    const parts = o['Fn::Join'][1].map(resolvePseudo);
    return parts.every((p) => p !== undefined) ? parts.join(o['Fn::Join'][0]) : undefined;
  }
  return undefined;
}

function principalMatches(principal: unknown, service: string): boolean {
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null) return false;
  const p = principal as { Service?: unknown; AWS?: unknown };
  return list(p.Service).includes(service) || list(p.AWS).includes('*');
}

function conditionHolds(operator: string, key: string, expected: unknown, context: Request['context']): boolean {
  const ifExists = operator.endsWith('IfExists');
  const op = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
  const actual = context[key];
  if (actual === undefined) return ifExists;
  const values = list(expected).map((v) => {
    const resolved = resolvePseudo(v);
    if (resolved === undefined) throw new Error(`condition ${operator} ${key}: unresolved value ${JSON.stringify(v)}`);
    return resolved;
  });
  switch (op) {
    case 'StringEquals':
    case 'ArnEquals':
      return values.includes(actual);
    case 'StringLike':
    case 'ArnLike':
      return values.some((v) => wildcard(v, actual, false));
    case 'Bool':
      return values.includes(actual);
    default:
      throw new Error(`condition operator ${operator} is not supported by the test evaluator`);
  }
}

function applies(statement: PolicyStatement, request: Request): boolean {
  if (!principalMatches(statement.Principal, request.servicePrincipal)) return false;
  if (!list(statement.Action).some((a) => typeof a === 'string' && wildcard(a, request.action, true))) return false;
  for (const [operator, entries] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      if (!conditionHolds(operator, key, expected, request.context)) return false;
    }
  }
  return true;
}

/** Allowed when some Allow statement applies and no Deny statement does. */
export function isAllowed(statements: readonly PolicyStatement[], request: Request): boolean {
  const matching = statements.filter((s) => applies(s, request));
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
}
