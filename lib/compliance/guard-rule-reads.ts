import * as fs from 'node:fs';

/**
 * Whether a cfn-guard rule file reads a resource's `Properties` only by key name.
 *
 * cfn-guard's cost grows with the size of the document it evaluates, and most of a CDK template is
 * properties no Control Tower rule reads (a state machine's definition, a function's code location).
 * A property can be left out of the copy cfn-guard reads without changing any finding when no rule can
 * observe it: when every way a rule file reaches a `Properties` map names the key it reads (`Foo exists`,
 * `Foo { … }`, `%p.Foo`), and none enumerates the map (`this.*`, `this[*]`, a `keys` filter), compares
 * it whole (`this == { … }`) or gives it to a built-in function. A key a rule names by a literal is in
 * the rule file's text, so keeping every key that the text contains keeps everything it reads.
 *
 * This follows the map through the rule file: from `check(%resources.Properties)` into the parameter
 * of the rule it is given to, into the blocks and filters over that parameter (where `this` is the map),
 * and into rules called with `this` from there. Anything it does not recognise makes the file unsafe,
 * and the resources that file checks are then kept whole. The Control Tower rules are written in a few
 * fixed shapes, so most files are recognised (the test lists the count); the result never depends on the
 * template, only on the rule file.
 */
export function readsPropertiesByKeyOnly(ruleText: string): boolean {
  try {
    return analyse(tokenize(ruleText));
  } catch (e) {
    if (e instanceof Unsafe) {
      if (process.env.GUARD_READS_DEBUG) console.error(e.message);
      return false;
    }
    throw e;
  }
}

const cache = new Map<string, boolean>();

/** readsPropertiesByKeyOnly of a rule file, read and analysed once per process. */
export function ruleFileReadsPropertiesByKeyOnly(file: string): boolean {
  let safe = cache.get(file);
  if (safe === undefined) {
    safe = readsPropertiesByKeyOnly(fs.readFileSync(file, 'utf8'));
    cache.set(file, safe);
  }
  return safe;
}

/** Thrown where the rule file does something with a properties map that this analysis does not follow. */
class Unsafe extends Error {}

// Placeholders for literals: what a string or regex says never changes which value `this` is.
const STRING = '""';
const REGEX = '//';

/** Guard tokens; comments and `<< … >>` messages dropped, string and regex literals as placeholders. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '#') i = lineEnd(text, i);
    else if (text.startsWith('<<', i)) i = after(text, '>>', i + 2);
    else if (c === '"' || c === "'") {
      i = quoted(text, c, i + 1);
      tokens.push(STRING);
    } else if (c === '/') {
      i = quoted(text, '/', i + 1);
      tokens.push(REGEX);
    } else {
      const m = /^(%?[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|==|!=|<=|>=|\S)/.exec(text.slice(i, i + 200))!;
      tokens.push(m[0]);
      i += m[0].length;
    }
  }
  return tokens;
}

const lineEnd = (text: string, i: number) => (text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i));

function after(text: string, end: string, i: number): number {
  const at = text.indexOf(end, i);
  if (at < 0) throw new Unsafe('unterminated message');
  return at + end.length;
}

function quoted(text: string, quote: string, i: number): number {
  for (; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
    else if (quote === '/' && text[i] === '\n') break;
  }
  throw new Unsafe('unterminated literal');
}

const OPEN: Record<string, string> = { '{': '}', '[': ']', '(': ')' };

/** Index of the bracket that closes the one at `i`. */
function closing(t: readonly string[], i: number): number {
  const stack: string[] = [];
  for (let j = i; j < t.length; j++) {
    const tok = t[j]!;
    if (OPEN[tok]) stack.push(OPEN[tok]);
    else if (tok === '}' || tok === ']' || tok === ')') {
      if (stack.pop() !== tok) throw new Unsafe('unbalanced brackets');
      if (stack.length === 0) return j;
    }
  }
  throw new Unsafe('unbalanced brackets');
}

type Rule = { params: string[]; header: [number, number]; body: [number, number] };
type Taint = { params: Set<number>; calledWithMap: boolean };

// Tokens after which `{` or `[` starts a literal value, not a block or a filter.
const LITERAL_CONTEXT = new Set(['==', '!=', '<', '>', '<=', '>=', 'in', ',', ':', '[', '(', '=', '{']);
// What may follow a properties map without reading its keys: existence, emptiness and type checks only,
// which keeping at least one key of a non-empty map (projection's rule) does not change.
const SHAPE_CHECKS = /^(exists|empty|is_[a-z_]+)$/;

function analyse(t: readonly string[]): boolean {
  const rules = new Map<string, Rule>();
  for (let i = 0; i < t.length; i++) {
    if (t[i] !== 'rule') continue;
    const name = t[i + 1]!;
    let j = i + 2;
    const params: string[] = [];
    if (t[j] === '(') {
      const end = closing(t, j);
      for (const p of t.slice(j + 1, end)) if (p !== ',') params.push(p);
      j = end + 1;
    }
    const headerStart = j;
    while (j < t.length && t[j] !== '{') j = OPEN[t[j]!] ? closing(t, j) + 1 : j + 1;
    if (j >= t.length) throw new Unsafe(`rule ${name} has no body`);
    const end = closing(t, j);
    // Guard allows a rule name more than once (hook and template forms); each is a body of its own.
    rules.set(`${name}#${i}`, { params, header: [headerStart, j], body: [j + 1, end] });
    i = end;
  }
  const byName = (name: string) => [...rules.entries()].filter(([k]) => k.startsWith(`${name}#`));
  const taints = new Map<string, Taint>([...rules.keys()].map((k) => [k, { params: new Set(), calledWithMap: false }]));

  // Every `Properties` must be an argument of its own, `%resources.Properties`, to a rule of this file.
  for (let i = 0; i < t.length; i++) {
    if (t[i] !== 'Properties') continue;
    const asArgument =
      t[i - 1] === '.' &&
      (t[i - 2] ?? '').startsWith('%') &&
      (t[i - 3] === '(' || t[i - 3] === ',') &&
      (t[i + 1] === ')' || t[i + 1] === ',');
    if (!asArgument) throw new Unsafe('Properties read other than as a rule argument');
  }

  let changed = true;
  while (changed) {
    changed = false;
    const taint = (key: string, update: (x: Taint) => boolean) => {
      if (update(taints.get(key)!)) changed = true;
    };
    for (const [key, rule] of rules) {
      const state = taints.get(key)!;
      const mapVars = new Set([...state.params].map((p) => `%${rule.params[p]}`));
      const scan = (from: number, to: number, thisIsMap: boolean): void => {
        let pendingWhen = false;
        for (let i = from; i < to; i++) {
          const tok = t[i]!;
          if (tok === 'when') pendingWhen = true;
          if (tok === 'keys' && thisIsMap) throw new Unsafe('keys filter over a properties map');
          // A named rule referred to without arguments: say it may see the map as `this` too.
          if (thisIsMap && t[i + 1] !== '(' && /^[a-z_][a-z0-9_]*$/i.test(tok))
            for (const [k] of byName(tok)) taint(k, (x) => !x.calledWithMap && (x.calledWithMap = true));
          if (tok === '(' && i > from && /^[A-Za-z_]/.test(t[i - 1]!) && t[i - 1] !== 'when') {
            // A call: rule of this file, or a built-in function.
            const end = closing(t, i);
            const callee = byName(t[i - 1]!);
            const args = splitArgs(t, i + 1, end);
            args.forEach(([a, b], n) => {
              const arg = t.slice(a, b);
              const isMap =
                (arg.length === 1 && ((arg[0] === 'this' && thisIsMap) || mapVars.has(arg[0]!))) ||
                (arg.length === 3 && arg[0]!.startsWith('%') && arg[1] === '.' && arg[2] === 'Properties');
              if (isMap) {
                if (callee.length === 0) throw new Unsafe(`properties map given to ${t[i - 1]}`);
                for (const [k] of callee) taint(k, (x) => !x.params.has(n) && !!x.params.add(n));
              } else scan(a, b, thisIsMap);
            });
            if (thisIsMap) for (const [k] of callee) taint(k, (x) => !x.calledWithMap && (x.calledWithMap = true));
            i = end;
            continue;
          }
          if (tok === '{' || tok === '[') {
            const end = closing(t, i);
            const prev = i > from ? t[i - 1]! : '';
            if (LITERAL_CONTEXT.has(prev) || prev === '' || prev === '=') {
              i = end;
              continue;
            }
            if (tok === '{' && pendingWhen) {
              pendingWhen = false;
              scan(i + 1, end, thisIsMap);
            } else if (tok === '{' && prev === ']') {
              // The block after a filter: `this` is what the filter kept, of the filter's subject.
              scan(i + 1, end, subjectIsMap(t, filterSubject(t, i - 1), thisIsMap, mapVars));
            } else {
              const isMap = subjectIsMap(t, i - 1, thisIsMap, mapVars);
              if (isMap && tok === '[' && (t[i + 1] === '*' || /^[0-9]/.test(t[i + 1]!)))
                throw new Unsafe('wildcard or index over a properties map');
              scan(i + 1, end, isMap);
            }
            i = end;
            continue;
          }
          if ((tok === 'this' && thisIsMap) || mapVars.has(tok)) {
            const next = t[i + 1] ?? '';
            if (next === '{' || next === '[') continue; // handled when the bracket is reached
            if (next === '.' && /^[A-Za-z_"]/.test(t[i + 2] ?? '') && t[i + 2] !== 'this') {
              i += 2;
              continue;
            }
            if (SHAPE_CHECKS.test(next)) continue;
            if ((next === 'not' || next === '!') && SHAPE_CHECKS.test(t[i + 2] ?? '')) continue;
            throw new Unsafe(`properties map used as \`${tok} ${next}\``);
          }
        }
      };
      scan(rule.header[0], rule.header[1], state.calledWithMap);
      scan(rule.body[0], rule.body[1], state.calledWithMap);
    }
  }
  return true;
}

/** Argument ranges [start, end) of a call whose parentheses hold tokens from..to. */
function splitArgs(t: readonly string[], from: number, to: number): [number, number][] {
  const args: [number, number][] = [];
  let start = from;
  for (let i = from; i < to; i++) {
    if (OPEN[t[i]!]) i = closing(t, i);
    else if (t[i] === ',') {
      args.push([start, i]);
      start = i + 1;
    }
  }
  if (to > start) args.push([start, to]);
  return args;
}

/** For a `]` closing a filter, the index of the token the filter applies to. */
function filterSubject(t: readonly string[], close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    if (t[i] === ']' || t[i] === '}' || t[i] === ')') depth++;
    else if (t[i] === '[' || t[i] === '{' || t[i] === '(') depth--;
    if (depth === 0) return i - 1;
  }
  throw new Unsafe('unbalanced brackets');
}

/** Whether the value ending at token `i` (the subject of a block or filter) may be a properties map. */
function subjectIsMap(t: readonly string[], i: number, thisIsMap: boolean, mapVars: ReadonlySet<string>): boolean {
  const tok = t[i]!;
  if (tok === ']') return subjectIsMap(t, filterSubject(t, i), thisIsMap, mapVars);
  // A path `a.b`: the value at a key below the map, which is kept whole.
  if (t[i - 1] === '.') {
    const owner = t[i - 2] ?? '';
    if (tok === '*' && ((owner === 'this' && thisIsMap) || mapVars.has(owner)))
      throw new Unsafe('wildcard over a properties map');
    return false;
  }
  if (tok === 'this') return thisIsMap;
  if (tok.startsWith('%')) return mapVars.has(tok);
  return false;
}
