/**
 * A local EventBridge event-pattern matcher, so tests can run documented sample events through the rules
 * we synthesize without an AWS account (TestEventPattern needs one).
 *
 * Semantics follow the EventBridge User Guide:
 * - "Creating Amazon EventBridge event patterns" and "Event pattern syntax"
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html): every field named in
 *   the pattern must be in the event with the same nesting; fields of an object AND together; the value of a
 *   leaf is an array whose elements OR together.
 * - "Arrays in Amazon EventBridge event patterns" (eb-event-patterns-arrays.html): when the event's value is an
 *   array, the pattern matches if any element of it matches.
 * - "Matching events on null values and empty strings" (eb-event-patterns-null-values.html): `null` and `""`
 *   are distinct values.
 * - "Content filtering in Amazon EventBridge event patterns" and "Comparison operators for use in event
 *   patterns" (eb-event-patterns-content-based-filtering.html, eb-create-pattern-operators.html): `prefix`,
 *   `suffix` (each also with `equals-ignore-case`), `equals-ignore-case`, `anything-but` (a value, a list of
 *   values, or `prefix` / `suffix` / `equals-ignore-case` / `wildcard`), `numeric`, `cidr`, `exists`,
 *   `wildcard`, and `$or`.
 *
 * Where the pages are silent the behaviour of EventBridge's open-source matcher (aws/event-ruler) is followed:
 * `exists` looks at leaf values only (an object or an empty array is not a leaf, so `exists: true` does not
 * match it and `exists: false` does); `prefix` / `suffix` / `wildcard` / `equals-ignore-case` match strings
 * only; `numeric` matches JSON numbers only; numbers compare by value (300 equals 3.0e2); a `*` in a wildcard
 * matches any run of characters and `\*` a literal star.
 *
 * An operator we do not know, or a pattern that is not shaped like one (a bare string where an array
 * belongs, an unresolved CloudFormation token such as `{"Fn::GetAtt": ...}`), throws PatternError naming the
 * path: a rule EventBridge would reject must not look like a rule that merely "does not match".
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The pattern is malformed (EventBridge would reject it); `path` says where. */
export class PatternError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`event pattern ${path || '(root)'}: ${problem}`);
    this.name = 'PatternError';
  }
}

/** CDK's `events.EventPattern` spells `detail-type` as `detailType`; CloudFormation and the events do not. */
const CDK_TOP_LEVEL_KEYS: Record<string, string> = { detailType: 'detail-type' };

/** Returns the pattern with CDK's camelCase top-level keys renamed to the names events carry. */
export function normalisePattern(pattern: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    if (value === undefined) continue;
    const name = CDK_TOP_LEVEL_KEYS[key] ?? key;
    if (name in out) throw new PatternError(name, `given twice (as ${name} and ${key})`);
    out[name] = value;
  }
  return out;
}

/** True when EventBridge would deliver `event` to a rule with `pattern`. */
export function matchesPattern(pattern: object, event: object): boolean {
  if (!isObject(pattern)) throw new PatternError('', 'must be a JSON object');
  return matchObject(normalisePattern(pattern), event as Record<string, unknown>, '');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function matchObject(pattern: Record<string, unknown>, event: unknown, path: string): boolean {
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new PatternError(path, 'an empty object matches nothing EventBridge accepts');
  return keys.every((key) => {
    const sub = pattern[key];
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') return matchOr(sub, event, here);
    const values = fieldValues(event, key);
    if (Array.isArray(sub)) return matchLeaf(sub, values, here);
    if (isObject(sub)) {
      // An array of objects in the event: the sub-pattern must match one element as a whole.
      const objects = values
        .flatMap((v) => (Array.isArray(v) ? (v.flat(Infinity) as unknown[]) : [v]))
        .filter(isObject);
      // No object here at all: only `exists: false` below can still match, as for any absent field.
      if (objects.length === 0) return matchObject(sub, {}, here);
      return objects.some((v) => matchObject(sub, v, here));
    }
    throw new PatternError(here, `must be an array of values or an object, got ${JSON.stringify(sub)}`);
  });
}

function matchOr(sub: unknown, event: unknown, path: string): boolean {
  if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isObject)) {
    throw new PatternError(path, '$or takes an array of at least two objects');
  }
  return sub.some((alternative) => matchObject(alternative, event, path));
}

/** The event's values for `key` in every object `event` stands for (itself, or each element of an array). */
function fieldValues(event: unknown, key: string): unknown[] {
  const holders = Array.isArray(event) ? event.flat(Infinity) : [event];
  const out: unknown[] = [];
  for (const holder of holders) {
    if (isObject(holder) && Object.prototype.hasOwnProperty.call(holder, key)) out.push(holder[key]);
  }
  return out;
}

/** The leaf values a field holds: arrays are flattened, objects are not leaves. */
function leavesOf(values: unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? (v.flat(Infinity) as unknown[]) : [v])).filter((v) => !isObject(v));
}

function matchLeaf(conditions: unknown[], values: unknown[], path: string): boolean {
  const leaves = leavesOf(values);
  return conditions.some((condition, i) => {
    const here = `${path}[${i}]`;
    if (isObject(condition)) {
      const ops = Object.keys(condition);
      if (ops.length !== 1) {
        throw new PatternError(here, `a matcher object has exactly one operator, got ${JSON.stringify(ops)}`);
      }
      const op = ops[0] as string;
      const arg = condition[op];
      if (op === 'exists') {
        if (typeof arg !== 'boolean') throw new PatternError(here, 'exists takes true or false');
        return arg ? leaves.length > 0 : leaves.length === 0;
      }
      const test = operator(op, arg, here);
      return leaves.some(test);
    }
    if (Array.isArray(condition)) throw new PatternError(here, 'arrays cannot be nested in a pattern value');
    return leaves.some((v) => sameValue(condition, v));
  });
}

/** Strict equality: `"5"` is not `5`, `null` is not `""`, and numbers compare by value (300 is 3.0e2). */
function sameValue(expected: unknown, actual: unknown): boolean {
  return expected === actual;
}

type Test = (value: unknown) => boolean;

function requireString(arg: unknown, path: string, op: string): string {
  if (typeof arg !== 'string') throw new PatternError(path, `${op} takes a string, got ${JSON.stringify(arg)}`);
  return arg;
}

/** `prefix` and `suffix` take a string or `{ "equals-ignore-case": string }`. */
function affix(op: 'prefix' | 'suffix', arg: unknown, path: string): Test {
  let text: string;
  let ignoreCase = false;
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      throw new PatternError(path, `${op} takes a string or {"equals-ignore-case": string}`);
    }
    text = requireString(arg['equals-ignore-case'], path, `${op} equals-ignore-case`);
    ignoreCase = true;
  } else {
    text = requireString(arg, path, op);
  }
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  const want = norm(text);
  return (v) => typeof v === 'string' && (op === 'prefix' ? norm(v).startsWith(want) : norm(v).endsWith(want));
}

function operator(op: string, arg: unknown, path: string): Test {
  switch (op) {
    case 'prefix':
    case 'suffix':
      return affix(op, arg, path);
    case 'equals-ignore-case': {
      const want = requireString(arg, path, op).toLowerCase();
      return (v) => typeof v === 'string' && v.toLowerCase() === want;
    }
    case 'wildcard': {
      const re = wildcardRegExp(requireString(arg, path, op), path);
      return (v) => typeof v === 'string' && re.test(v);
    }
    case 'numeric':
      return numeric(arg, path);
    case 'cidr':
      return cidr(requireString(arg, path, op), path);
    case 'anything-but':
      return anythingBut(arg, path);
    default:
      throw new PatternError(path, `unknown operator ${JSON.stringify(op)}`);
  }
}

function anythingBut(arg: unknown, path: string): Test {
  if (typeof arg === 'string' || typeof arg === 'number') return (v) => !sameValue(arg, v);
  if (Array.isArray(arg)) {
    const allStrings = arg.every((a) => typeof a === 'string');
    const allNumbers = arg.every((a) => typeof a === 'number');
    if (arg.length === 0 || !(allStrings || allNumbers)) {
      throw new PatternError(path, 'anything-but takes a non-empty list of only strings or only numbers');
    }
    return (v) => !arg.some((a) => sameValue(a, v));
  }
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    const inner = keys[0];
    if (keys.length !== 1 || inner === undefined)
      throw new PatternError(path, 'anything-but takes one nested operator');
    const innerArg = arg[inner];
    switch (inner) {
      case 'prefix':
      case 'suffix': {
        // The documented note: anything-but matches a single prefix (or suffix), not a list.
        const test = affix(inner, innerArg, `${path}.anything-but`);
        return (v) => typeof v === 'string' && !test(v);
      }
      case 'equals-ignore-case': {
        const list = Array.isArray(innerArg) ? innerArg : [innerArg];
        const lowered = list.map((s) => requireString(s, path, 'anything-but equals-ignore-case').toLowerCase());
        return (v) => typeof v === 'string' && !lowered.includes(v.toLowerCase());
      }
      case 'wildcard': {
        const list = Array.isArray(innerArg) ? innerArg : [innerArg];
        const res = list.map((s) => wildcardRegExp(requireString(s, path, 'anything-but wildcard'), path));
        return (v) => typeof v === 'string' && !res.some((re) => re.test(v));
      }
      default:
        throw new PatternError(path, `anything-but does not support ${JSON.stringify(inner)}`);
    }
  }
  throw new PatternError(
    path,
    `anything-but takes a string, a number, a list or an operator, got ${JSON.stringify(arg)}`,
  );
}

/** `*` is any run of characters, `\*` a literal star, `\\` a literal backslash; `**` is rejected as EventBridge does. */
function wildcardRegExp(text: string, path: string): RegExp {
  let source = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\')
        throw new PatternError(path, `wildcard ${JSON.stringify(text)}: \\ escapes only * and \\`);
      source += `\\${next}`;
      i++;
    } else if (c === '*') {
      if (text[i + 1] === '*')
        throw new PatternError(path, `wildcard ${JSON.stringify(text)}: consecutive * are not allowed`);
      source += '.*';
    } else {
      source += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 's');
}

const NUMERIC_OPS = new Set(['<', '<=', '=', '>', '>=']);

function numeric(arg: unknown, path: string): Test {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
    throw new PatternError(path, 'numeric takes one or two [operator, number] pairs');
  }
  const pairs: [string, number][] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = arg[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op) || typeof n !== 'number') {
      throw new PatternError(path, `numeric pair ${JSON.stringify([op, n])} is not [operator, number]`);
    }
    pairs.push([op, n]);
  }
  return (v) =>
    typeof v === 'number' &&
    pairs.every(([op, n]) => {
      switch (op) {
        case '<':
          return v < n;
        case '<=':
          return v <= n;
        case '=':
          return v === n;
        case '>':
          return v > n;
        default:
          return v >= n;
      }
    });
}

/** IPv4 CIDR only; an IPv6 pattern throws rather than silently never matching. */
function cidr(text: string, path: string): Test {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m)
    throw new PatternError(
      path,
      `cidr ${JSON.stringify(text)} is not an IPv4 CIDR block (IPv6 is not implemented here)`,
    );
  const bits = Number(m[5]);
  const base = ipv4(m.slice(1, 5).join('.'));
  if (base === undefined || bits > 32) throw new PatternError(path, `cidr ${JSON.stringify(text)} is out of range`);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (v) => {
    if (typeof v !== 'string') return false;
    const ip = ipv4(v);
    return ip !== undefined && (ip & mask) >>> 0 === (base & mask) >>> 0;
  };
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}
