import * as fs from 'node:fs';

/**
 * What a cfn-guard rule file can read of a template, decided from the rule file alone, so that the synth
 * can hand cfn-guard a smaller copy of each template with the same findings (projectRun in cfn-guard.ts):
 *
 * - `keys`: it reads the `Properties` of resources it selects by a literal type, and of those only the
 *   keys it names (`Foo exists`, `Foo { … }`, `%p.Foo`). The copy may leave out every other property of
 *   those types and the `Properties` of every other type.
 * - `types`: it reads the `Properties` only of resources it selects by a literal type, but may read any of
 *   their keys. The copy may leave out the `Properties` of every other type.
 * - `unknown`: anything else. The copy must be the whole template.
 *
 * It recognises the shapes the Control Tower rules are written in and nothing more: resources selected at
 * the top level by `let x = Resources.*[ Type == "AWS::…" ]` and used only to test emptiness or to give
 * `%x.Properties` to a rule; the root document used only to look a resource up by logical id and read its
 * `Type`, to test that `Resources` exists, or to read a hook's `%doc.%TYPE.resourceProperties`; the
 * properties map followed from `check(%x.Properties)` into the rule's parameter, into blocks and filters
 * over it (where `this` is the map) and into rules called with it. Anything else that touches a resource, the
 * root or the map (a wildcard, a `keys` filter, a named capture `[ k ]`, a whole comparison, a built-in
 * function, a new name, `Properties` spelt as a string or reached by interpolation) lowers the answer, so a
 * file it does not follow is read whole. The test lists how each shipped file is classified, and the
 * shapes refused; `npx tsx bench/cfn-guard-projection-fuzz.ts` compares findings over whole and cut-down
 * templates for every accepted file. Four reviews found shapes earlier versions missed, so
 * projectRun trusts this only for the reviewed release of the Control Tower files
 * (REVIEWED_GUARD_PLUGIN_VERSION in cfn-guard.ts).
 */
export type GuardReads = 'keys' | 'types' | 'unknown';

export function guardReads(ruleText: string): GuardReads {
  try {
    const t = lex(ruleText);
    const file = parse(t);
    checkResourcesAndRoot(file);
    try {
      followPropertiesMaps(file);
      return 'keys';
    } catch (e) {
      if (e instanceof ReadsMap) return debug(e, 'types');
      throw e;
    }
  } catch (e) {
    if (e instanceof Unknown) return debug(e, 'unknown');
    throw e;
  }
}

function debug(e: Error, answer: GuardReads): GuardReads {
  if (process.env.GUARD_READS_DEBUG) console.error(`${answer}: ${e.message}`);
  return answer;
}

const texts = new Map<string, string>();
const answers = new Map<string, GuardReads>();

/** A rule file's text, read once per process (the rule index, the analysis and projectRun all need it). */
export function ruleFileText(file: string): string {
  let text = texts.get(file);
  if (text === undefined) texts.set(file, (text = fs.readFileSync(file, 'utf8')));
  return text;
}

/** guardReads of a rule file, analysed once per process. */
export function ruleFileReads(file: string): GuardReads {
  let reads = answers.get(file);
  if (reads === undefined) answers.set(file, (reads = guardReads(ruleFileText(file))));
  return reads;
}

/** The file does something this analysis does not follow with a resource or the root: read it whole. */
class Unknown extends Error {}
/** The file may read any key of the properties map: keep its types' properties whole. */
class ReadsMap extends Error {}

type Tokens = { text: string[]; line: number[] };

const REGEX = '//';
const KEYWORDS = new Set(['this', 'keys', 'when', 'some', 'not', 'in', 'or', 'exists', 'empty']);
const isString = (tok: string | undefined) => tok !== undefined && tok.length >= 2 && tok.startsWith('"');
const isIdent = (tok: string | undefined) => tok !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(tok);
const isVar = (tok: string | undefined) => tok !== undefined && /^%[A-Za-z_][A-Za-z0-9_]*$/.test(tok);

/**
 * Guard tokens with their line numbers. Comments and `<< … >>` messages are dropped, a regex is `//`, a
 * string is `"` + its text + `"`. As in cfn-guard, a backslash escapes only the closing quote.
 */
function lex(text: string): Tokens {
  const out: Tokens = { text: [], line: [] };
  let line = 1;
  let i = 0;
  const push = (tok: string) => {
    out.text.push(tok);
    out.line.push(line);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
    else if (text.startsWith('<<', i)) {
      const end = text.indexOf('>>', i + 2);
      if (end < 0) throw new Unknown('unterminated message');
      for (const ch of text.slice(i, end)) if (ch === '\n') line++;
      i = end + 2;
    } else if (c === '"' || c === "'" || c === '/') {
      let j = i + 1;
      let body = '';
      for (; j < text.length && text[j] !== c; j++) {
        if (text[j] === '\\' && text[j + 1] === c) j++;
        else if (text[j] === '\n') {
          if (c === '/') throw new Unknown('unterminated regex');
          line++;
        }
        body += text[j];
      }
      if (j >= text.length) throw new Unknown('unterminated literal');
      push(c === '/' ? REGEX : `"${body}"`);
      i = j + 1;
    } else if (text.startsWith('|OR|', i)) {
      push('or');
      i += 4;
    } else {
      const m = /^(%?[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|==|!=|<=|>=|\S)/.exec(text.slice(i, i + 200))!;
      // A range literal (`r[1, 5]`, `r(",~]`) holds quotes that are not strings: not followed.
      if (m[0] === 'r' && (text[i + 1] === '[' || text[i + 1] === '(')) throw new Unknown('range literal');
      // cfn-guard takes its keywords in capitals too (THIS, KEYS, WHEN, SOME, NOT, IN, OR, ...).
      push(KEYWORDS.has(m[0].toLowerCase()) && m[0] === m[0].toUpperCase() ? m[0].toLowerCase() : m[0]);
      i += m[0].length;
    }
  }
  return out;
}

/** Exported for the tests: the token texts. */
export function tokenize(text: string): string[] {
  return lex(text).text;
}

const OPEN: Record<string, string> = { '{': '}', '[': ']', '(': ')' };

function closing(t: readonly string[], i: number): number {
  const stack: string[] = [];
  for (let j = i; j < t.length; j++) {
    const tok = t[j]!;
    if (OPEN[tok]) stack.push(OPEN[tok]);
    else if (tok === '}' || tok === ']' || tok === ')') {
      if (stack.pop() !== tok) throw new Unknown('unbalanced brackets');
      if (stack.length === 0) return j;
    }
  }
  throw new Unknown('unbalanced brackets');
}

type Rule = { name: string; params: string[]; header: [number, number]; body: [number, number] };
type File = {
  tok: Tokens;
  t: string[];
  rules: Rule[];
  /** Token ranges outside every rule: top-level `let`s and the default rule's clauses. */
  topLevel: [number, number][];
  /** Top-level `let`s bound to a literal (string, regex, number, list of literals). */
  literals: Set<string>;
  /** Top-level `let`s bound to a resource type name (`"AWS::…"`). */
  typeNames: Set<string>;
  /** Top-level `let`s selecting resources by a literal type. */
  selections: Set<string>;
  /** Top-level `let`s bound to `this` (the root document). */
  roots: Set<string>;
};

function parse(tok: Tokens): File {
  const t = tok.text;
  const rules: Rule[] = [];
  const topLevel: [number, number][] = [];
  let from = 0;
  for (let i = 0; i < t.length; i++) {
    if (OPEN[t[i]!]) {
      i = closing(t, i);
      continue;
    }
    if (t[i] !== 'rule') continue;
    topLevel.push([from, i]);
    const name = t[i + 1] ?? '';
    if (!isIdent(name)) throw new Unknown('rule without a name');
    let j = i + 2;
    const params: string[] = [];
    if (t[j] === '(') {
      const end = closing(t, j);
      for (const p of t.slice(j + 1, end)) if (p !== ',') params.push(p);
      j = end + 1;
    }
    const headerStart = j;
    while (j < t.length && t[j] !== '{') j = OPEN[t[j]!] ? closing(t, j) + 1 : j + 1;
    // A struct literal in the condition (`when %x == { … }`) would be taken for the body: not followed.
    if (LITERAL_CONTEXT.has(t[j - 1] ?? '')) throw new Unknown(`rule ${name}: a struct literal in its condition`);
    if (j >= t.length) throw new Unknown(`rule ${name} has no body`);
    const end = closing(t, j);
    rules.push({ name, params, header: [headerStart, j], body: [j + 1, end] });
    if (!RULE_BODIES.has(tok)) RULE_BODIES.set(tok, new Set());
    RULE_BODIES.get(tok)!.add(j);
    i = end;
    from = end + 1;
  }
  topLevel.push([from, t.length]);

  const literals = new Set<string>();
  const typeNames = new Set<string>();
  const selections = new Set<string>();
  const roots = new Set<string>();
  const lets = new Map<string, number>();
  for (const [a, b] of topLevel) {
    for (let i = a; i < b; i++) {
      if (t[i] !== 'let') continue;
      const name = t[i + 1]!;
      if (t[i + 2] !== '=') throw new Unknown(`let ${name} without =`);
      lets.set(name, (lets.get(name) ?? 0) + 1);
      const rhs = i + 3;
      const end = statementEnd(tok, rhs, b);
      const value = t.slice(rhs, end);
      if (value.length === 1 && (isString(value[0]) || value[0] === REGEX || /^[0-9]/.test(value[0]!))) {
        literals.add(name);
        if (TYPE_NAME.test(value[0]!)) typeNames.add(name);
      } else if (
        value[0] === '[' &&
        value.slice(1, -1).every((x) => isString(x) || x === REGEX || x === ',' || /^[0-9]/.test(x))
      )
        literals.add(name);
      else if (value.length === 1 && value[0] === 'this') roots.add(name);
      else if (value[0] === 'this') throw new Unknown(`let ${name} reads the root`);
      else if (isTypeSelection(value, typeNames)) selections.add(name);
      else if (value[0] === 'Resources')
        throw new Unknown(`let ${name} selects resources other than by a literal type`);
      i = end - 1;
    }
  }
  // A name bound twice (or again inside a rule) is not followed.
  for (let i = 0; i < t.length; i++)
    if (t[i] === 'let' && lets.has(t[i + 1]!) && (lets.get(t[i + 1]!)! > 1 || !inTopLevel(topLevel, i)))
      throw new Unknown(`${t[i + 1]} is bound more than once`);
  return { tok, t, rules, topLevel, literals, typeNames, selections, roots };
}

const inTopLevel = (ranges: [number, number][], i: number) => ranges.some(([a, b]) => i >= a && i < b);

/** Index after the statement starting at `i`: the first token on a new line at bracket depth 0. */
function statementEnd(tok: Tokens, i: number, limit: number): number {
  const t = tok.text;
  let j = i;
  while (j < limit) {
    if (OPEN[t[j]!]) j = closing(t, j) + 1;
    else j++;
    if (j < limit && tok.line[j] !== tok.line[j - 1] && !OPEN[t[j - 1]!]) {
      // A statement continues on the next line only inside brackets or after an operator.
      // cfn-guard also carries a query on across a line break before `.` or `[`.
      const prev = t[j - 1]!;
      if (!['or', '==', '!=', 'in', ',', '|'].includes(prev) && !['or', '|', '.', '['].includes(t[j]!)) break;
    }
  }
  return j;
}

/** A resource type name as controlTowerRuleIndex finds it in a rule file (`"AWS::SQS::Queue"`). */
const TYPE_NAME = /^"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+"$/;

/**
 * `Resources.*[ Type == LIT or … ]` or `Resources[ … ]`, LIT a type name, a `let` bound to one, or a list of
 * type names: the types the rule index (controlTowerRuleIndex) finds in the file.
 */
function isTypeSelection(value: readonly string[], typeNames: ReadonlySet<string>): boolean {
  let i = 0;
  if (value[i++] !== 'Resources') return false;
  if (value[i] === '.' && value[i + 1] === '*') i += 2;
  if (value[i] !== '[' || value[value.length - 1] !== ']') return false;
  const cond = value.slice(i + 1, -1);
  const literal = (x: string | undefined) =>
    (x !== undefined && TYPE_NAME.test(x)) || (isVar(x) && typeNames.has(x!.slice(1)));
  for (let j = 0; j < cond.length;) {
    if (cond[j] !== 'Type' || (cond[j + 1] !== '==' && cond[j + 1] !== 'in')) return false;
    // `Type in "…"` tests for a substring (AWS::SQS::Queue is in "AWS::SQS::QueuePolicy"): only lists.
    const isIn = cond[j + 1] === 'in';
    j += 2;
    if (!isIn && literal(cond[j])) j++;
    else if (isIn && cond[j] === '[') {
      j++;
      while (cond[j] !== ']') {
        if (!TYPE_NAME.test(cond[j] ?? '') && cond[j] !== ',') return false;
        j++;
      }
      j++;
    } else return false;
    if (j < cond.length && cond[j++] !== 'or') return false;
  }
  return cond.length > 0;
}

const SHAPE = new Set(['exists', 'empty']);
/** A shape check (`exists`, `empty`, `is_struct`, with `not` or `!`) right after token i, on its line. */
function shapeCheckAfter(tok: Tokens, i: number): boolean {
  const t = tok.text;
  let j = i + 1;
  if (t[j] === 'not' || t[j] === '!') j++;
  const check = t[j];
  if (check === undefined || tok.line[j] !== tok.line[i]) return false;
  if (!(SHAPE.has(check) || /^is_[a-z_]+$/.test(check))) return false;
  // The statement ends there. A block may follow only as a rule's body or a `when` block: after
  // `X not empty`, cfn-guard would read a block over X, which nothing here follows.
  const after = t[j + 1];
  if (after === '{') return RULE_BODIES.get(tok)?.has(j + 1) === true || whenOnLine(tok, i);
  return after === undefined || tok.line[j + 1] !== tok.line[j] || ['or', '}', ')', ']'].includes(after);
}

/** The `{` of every rule body, per token list (set by parse). */
const RULE_BODIES = new WeakMap<Tokens, Set<number>>();

/** Whether a `when` comes before token i on its line, inside no bracket opened on that line. */
function whenOnLine(tok: Tokens, i: number): boolean {
  let depth = 0;
  for (let j = i - 1; j >= 0 && tok.line[j] === tok.line[i]; j--) {
    const x = tok.text[j]!;
    if (x === ')' || x === ']' || x === '}') depth++;
    else if (x === '(' || x === '[' || x === '{') {
      if (depth === 0) return false;
      depth--;
    } else if (x === 'when' && depth === 0) return true;
  }
  return false;
}

/**
 * Whole-file checks that resources and the root are read only in the recognised shapes; throws Unknown.
 */
function checkResourcesAndRoot(file: File): void {
  const { t, tok, literals, selections } = file;
  const ruleOf = (i: number) => file.rules.find((r) => i >= r.header[0] && i < r.body[1]);
  // A rule's parameter hides a top-level `let` of the same name.
  const topLevelVar = (names: ReadonlySet<string>, i: number, v: string) =>
    names.has(v) && !ruleOf(i)?.params.includes(v);

  // `this` at the top level of a rule or of the file (when-blocks and call arguments included) is the root:
  // followed only as `let ROOT = this`, as a whole rule argument, or in a hook's `this.%TYPE.resourceProperties`.
  // A bare `Resources` there is the root's: only tested for existence (or selected by type, in parse).
  const rootArgs = new Set<number>();
  const rootLevel = (from: number, to: number): void => {
    let pendingWhen = false;
    for (let i = from; i < to; i++) {
      if (t[i] === 'when') pendingWhen = true;
      if (t[i] === '(') {
        const end = closing(t, i);
        rootLevel(i + 1, end);
        i = end;
      } else if (t[i] === '{' || t[i] === '[') {
        const end = closing(t, i);
        if (t[i] === '{' && LITERAL_CONTEXT.has(t[i - 1] ?? '')) {
          if (pendingWhen) throw new Unknown('a struct literal in a when condition');
        } else if (t[i] === '{') {
          if (pendingWhen) rootLevel(i + 1, end);
          pendingWhen = false;
        }
        i = end;
      } else if (t[i] === 'this') {
        if (t[i - 1] === '=' && t[i - 3] === 'let' && inTopLevel(file.topLevel, i) && file.roots.has(t[i - 2]!))
          continue;
        if ((t[i - 1] === '(' || t[i - 1] === ',') && (t[i + 1] === ')' || t[i + 1] === ',')) rootArgs.add(i);
        else if (!(
          t[i + 1] === '.' &&
          isVar(t[i + 2]) &&
          literals.has(t[i + 2]!.slice(1)) &&
          t[i + 3] === '.' &&
          t[i + 4] === 'resourceProperties'
        ))
          throw new Unknown('this at the top level of a rule');
      } else if (t[i] === 'Resources' && t[i - 1] !== '.') {
        const selection = t[i - 3] === 'let' && t[i - 1] === '=' && selections.has(t[i - 2]!);
        if (!selection && !shapeCheckAfter(tok, i)) throw new Unknown('Resources read in a shape not followed');
      }
    }
  };
  for (const [a, b] of [...file.topLevel, ...file.rules.flatMap((r) => [r.header, r.body])]) rootLevel(a, b);
  const rootParams = rootParameters(file, rootArgs);
  const lookups = new Map(file.rules.map((r) => [r, lookupVars(file, r)]));
  const selectionParams = passedOn(file, selections);
  // Resources selected by a literal type: a top-level selection, or a parameter given one whole.
  const selection = (i: number, v: string) =>
    topLevelVar(selections, i, v) || selectionParams.has(`${ruleOf(i)?.name}:${v}`);

  for (let i = 0; i < t.length; i++) {
    const tokI = t[i]!;
    if (isString(tokI) && tokI.includes('Properties') && tokI !== '"resourceProperties"')
      throw new Unknown('Properties spelt as a string');
    if (tokI === 'Properties') {
      const asArgument =
        t[i - 1] === '.' &&
        isVar(t[i - 2]) &&
        selection(i, t[i - 2]!.slice(1)) &&
        (t[i - 3] === '(' || t[i - 3] === ',') &&
        (t[i + 1] === ')' || t[i + 1] === ',') &&
        isIdent(t[opening(t, i) - 1]) &&
        t[opening(t, i)] === '(';
      if (!asArgument) throw new Unknown('Properties read other than as `rule(%selection.Properties)`');
    }
    if (tokI === '.' && isVar(t[i + 1])) {
      // Interpolation: only of a literal, or of a parameter every caller gives a literal.
      const v = t[i + 1]!.slice(1);
      const rule = ruleOf(i);
      const param = rule?.params.indexOf(v) ?? -1;
      const literalArg = (arg: string[]) =>
        arg.length === 1 && (isString(arg[0]) || (isVar(arg[0]) && literals.has(arg[0]!.slice(1))));
      const ok =
        rule && param >= 0
          ? callsOf(file, rule.name).every(({ args }) => literalArg(args[param] ?? []))
          : literals.has(v);
      if (!ok) throw new Unknown(`interpolation of %${v}`);
    }
    if (tokI === '*' && t[i - 1] === '.') {
      const owner = t[i - 2];
      const v = isVar(owner) ? owner!.slice(1) : '';
      const rule = ruleOf(i);
      // A variable that holds neither the root nor resources holds literals or values below a key (or a
      // properties map, which followPropertiesMaps refuses to enumerate).
      const plainVar =
        isVar(owner) &&
        t[i - 3] !== '.' &&
        !topLevelVar(file.roots, i, v) &&
        !selection(i, v) &&
        !(rule && (rootParams.has(`${rule.name}:${v}`) || lookups.get(rule)!.has(v)));
      const ok =
        (owner === 'Resources' && t[i - 3] !== '.' && t[i + 1] === '[') ||
        plainVar ||
        (isIdent(owner) &&
          owner !== 'this' &&
          owner !== 'Resources' &&
          owner !== 'Properties' &&
          !afterResources(t, i - 2));
      if (!ok) throw new Unknown(`wildcard over ${owner}`);
    }
    if (tokI === ':' && !isString(t[i - 1])) throw new Unknown('a type block or `:` outside a struct literal');
    if (tokI === '[' && isIdent(t[i + 1]) && (t[i + 2] === ']' || t[i + 2] === '|') && t[i + 1] !== 'this')
      throw new Unknown(`named capture [ ${t[i + 1]} ]`);
    if (tokI === 'Resources' && t[i - 1] === '.') {
      const owner = t[i - 2] ?? '';
      const root =
        isVar(owner) &&
        (topLevelVar(file.roots, i, owner.slice(1)) || rootParams.has(`${ruleOf(i)?.name}:${owner.slice(1)}`));
      const lookup =
        t[i + 1] === '[' &&
        t[i + 2] === 'keys' &&
        t[i + 3] === '==' &&
        isVar(t[i + 4]) &&
        t[i + 5] === ']' &&
        t[i - 3] === '=' &&
        t[i - 5] === 'let' &&
        ruleOf(i) !== undefined;
      if ((root || owner === 'this') && !lookup) throw new Unknown("the root's Resources read in a shape not followed");
    }
    if (isVar(tokI) && t[i - 1] !== '.' && selection(i, tokI.slice(1))) {
      const wholeArgument =
        (t[i - 1] === '(' || t[i - 1] === ',') &&
        (t[i + 1] === ')' || t[i + 1] === ',') &&
        isIdent(t[opening(t, i) - 1]) &&
        file.rules.some((r) => r.name === t[opening(t, i) - 1]);
      const ok = shapeCheckAfter(tok, i) || (t[i + 1] === '.' && t[i + 2] === 'Properties') || wholeArgument;
      if (!ok) throw new Unknown(`${tokI} used other than for emptiness, its Properties or as a rule's argument`);
    }
    if (isVar(tokI) && t[i - 1] !== '.') {
      const rule = ruleOf(i);
      const v = tokI.slice(1);
      if (topLevelVar(file.roots, i, v) || (rule && rootParams.has(`${rule.name}:${v}`))) checkRootUse(file, i, rule);
      if (rule && lookups.get(rule)!.has(v)) checkLookupUse(file, i);
    }
    if (tokI === 'let' && !inTopLevel(file.topLevel, i)) {
      // A let inside a rule may name a lookup of a resource by logical id, never the root or a selection.
      const value = t.slice(i + 3, statementEnd(tok, i + 3, t.length));
      const rule = ruleOf(i);
      const v = isVar(value[0]) ? value[0]!.slice(1) : '';
      const root = topLevelVar(file.roots, i, v) || (rule !== undefined && rootParams.has(`${rule.name}:${v}`));
      if (selection(i, v)) throw new Unknown(`let ${t[i + 1]} names resources`);
      if (root && !(value[1] === '.' && value[2] === 'Resources')) throw new Unknown(`let ${t[i + 1]} names the root`);
    }
  }
}

/** Index of the bracket that encloses token i. */
function opening(t: readonly string[], i: number): number {
  let depth = 0;
  for (let j = i - 1; j >= 0; j--) {
    if (t[j] === ')' || t[j] === ']' || t[j] === '}') depth++;
    else if (t[j] === '(' || t[j] === '[' || t[j] === '{') {
      if (depth === 0) return j;
      depth--;
    }
  }
  return -1;
}

/** Whether the identifier at i continues a path from `Resources` (`Resources.Foo`: a resource by logical id). */
function afterResources(t: readonly string[], i: number): boolean {
  for (let j = i; j >= 2 && t[j - 1] === '.'; j -= 2) if (t[j - 2] === 'Resources') return true;
  return false;
}

/** Every call to a rule of that name: its arguments as token lists, and where each starts. */
function callsOf(file: File, name: string): { args: string[][]; starts: number[] }[] {
  const { t } = file;
  const calls: { args: string[][]; starts: number[] }[] = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i] !== name || t[i + 1] !== '(' || t[i - 1] === 'rule') continue;
    const ranges = splitArgs(t, i + 2, closing(t, i + 1));
    calls.push({ args: ranges.map(([a, b]) => t.slice(a, b)), starts: ranges.map(([a]) => a) });
  }
  return calls;
}

/**
 * `rule:param` of every parameter that may hold the root document: given a root `let`, `this` at the top
 * level of a rule (`rootArgs`), or such a parameter.
 */
function rootParameters(file: File, rootArgs: ReadonlySet<number>): Set<string> {
  return passedOn(file, file.roots, (arg, start) => arg[0] === 'this' && rootArgs.has(start));
}

/**
 * `rule:param` of every parameter given, whole, one of these top-level names, an argument `also` accepts,
 * or such a parameter (over-approximated: a parameter of any rule with that name and role).
 */
function passedOn(
  file: File,
  names: ReadonlySet<string>,
  also: (arg: string[], start: number) => boolean = () => false,
): Set<string> {
  const found = new Set<string>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const rule of file.rules) {
      for (const { args, starts } of callsOf(file, rule.name)) {
        args.forEach((arg, n) => {
          const key = `${rule.name}:${rule.params[n]}`;
          if (found.has(key) || arg.length !== 1) return;
          const v = isVar(arg[0]) ? arg[0]!.slice(1) : undefined;
          const passed =
            also(arg, starts[n]!) ||
            (v !== undefined &&
              (names.has(v) || file.rules.some((r) => r.params.includes(v) && found.has(`${r.name}:${v}`))));
          if (passed) {
            found.add(key);
            changed = true;
          }
        });
      }
    }
  }
  return found;
}

/** Names a rule binds to `%doc.Resources[ keys == %x ]` (a resource looked up by logical id). */
function lookupVars(file: File, rule: Rule): Set<string> {
  const { t } = file;
  const names = new Set<string>();
  for (let i = rule.body[0]; i < rule.body[1]; i++)
    if (t[i] === 'let' && t[i + 2] === '=' && t[i + 4] === '.' && t[i + 5] === 'Resources') names.add(t[i + 1]!);
  return names;
}

/** The root is given whole to a rule, tested for `Resources`, or read at a hook's `%doc.%TYPE.resourceProperties`. */
function checkRootUse(file: File, i: number, rule: Rule | undefined): void {
  const { t } = file;
  const next = t[i + 1];
  if ((t[i - 1] === '(' || t[i - 1] === ',') && (next === ')' || next === ',')) return;
  // A hook's input (`%doc.%TYPE…`): a template has no top-level key named like a resource type.
  if (next === '.' && isVar(t[i + 2]) && typeNameValued(file, i + 2, rule)) return;
  if (next === '.' && t[i + 2] === 'Resources') return; // the lookup, checked where `Resources` is
  if (next === '{') {
    const end = closing(t, i + 1);
    const body = t.slice(i + 2, end);
    if (body.every((x) => ['AWSTemplateFormatVersion', 'Resources', 'exists', 'or', 'not', '!'].includes(x))) return;
  }
  throw new Unknown(`the root used as \`${t[i]} ${next}\``);
}

/** Whether `%v` at i only ever holds a resource type name: a literal `"AWS::…"`, or a parameter given one. */
function typeNameValued(file: File, i: number, rule: Rule | undefined): boolean {
  const v = file.t[i]!.slice(1);
  const typeName = (arg: string[]) =>
    arg.length === 1 &&
    ((isString(arg[0]) && arg[0]!.startsWith('"AWS::')) || (isVar(arg[0]) && file.typeNames.has(arg[0]!.slice(1))));
  const param = rule?.params.indexOf(v) ?? -1;
  if (rule && param >= 0) return callsOf(file, rule.name).every(({ args }) => typeName(args[param] ?? []));
  return file.typeNames.has(v);
}

/** A looked-up resource is tested for emptiness or has its `Type` compared. */
function checkLookupUse(file: File, i: number): void {
  const { t, tok } = file;
  if (t[i - 2] === 'let') return;
  if (shapeCheckAfter(tok, i)) return;
  if (t[i + 1] === '{') {
    const body = t.slice(i + 2, closing(t, i + 1));
    if (
      body.every((x) => ['Type', '==', '!=', 'in', 'or', 'not', '[', ']', ','].includes(x) || isString(x) || isVar(x))
    )
      return;
  }
  throw new Unknown(`a looked-up resource used as \`${t[i]} ${t[i + 1]}\``);
}

// Tokens after which `{` or `[` starts a literal value, not a block or a filter.
const LITERAL_CONTEXT = new Set(['==', '!=', '<', '>', '<=', '>=', 'in', ',', ':', '[', '(', '=', '{']);

/**
 * Follows each properties map from `rule(%selection.Properties)` and throws ReadsMap where the file could
 * observe a key it does not name.
 */
function followPropertiesMaps(file: File): void {
  const { t, tok } = file;
  type Taint = { params: Set<number>; calledWithMap: boolean };
  const taints = new Map<Rule, Taint>(file.rules.map((r) => [r, { params: new Set(), calledWithMap: false }]));
  const byName = (name: string) => file.rules.filter((r) => r.name === name);
  let changed = true;
  while (changed) {
    changed = false;
    const mark = (rule: Rule, update: (x: Taint) => boolean) => {
      if (update(taints.get(rule)!)) changed = true;
    };
    const bodies: { ranges: [number, number][]; state: Taint; params: string[] }[] = [
      { ranges: file.topLevel, state: { params: new Set(), calledWithMap: false }, params: [] },
      ...file.rules.map((r) => ({
        ranges: [r.header, r.body] as [number, number][],
        state: taints.get(r)!,
        params: r.params,
      })),
    ];
    for (const { ranges, state, params } of bodies) {
      const mapVars = new Set([...state.params].map((p) => `%${params[p]}`));
      const isMapValue = (i: number, thisIsMap: boolean) => (t[i] === 'this' && thisIsMap) || mapVars.has(t[i]!);
      const scan = (from: number, to: number, thisIsMap: boolean): void => {
        let pendingWhen = false;
        for (let i = from; i < to; i++) {
          const tokI = t[i]!;
          if (tokI === 'when') pendingWhen = true;
          if (tokI === 'keys' && thisIsMap) throw new ReadsMap('keys filter over a properties map');
          // A named rule referred to without arguments: it may see the map as `this` too.
          if (thisIsMap && t[i + 1] !== '(' && isIdent(tokI))
            for (const r of byName(tokI)) mark(r, (x) => !x.calledWithMap && (x.calledWithMap = true));
          if (tokI === '(' && i > from && isIdent(t[i - 1]) && t[i - 1] !== 'when') {
            const end = closing(t, i);
            const callee = byName(t[i - 1]!);
            splitArgs(t, i + 1, end).forEach(([a, b], n) => {
              const arg = t.slice(a, b);
              const isMap =
                (arg.length === 1 && isMapValue(a, thisIsMap)) ||
                (arg.length === 3 && isVar(arg[0]) && arg[1] === '.' && arg[2] === 'Properties');
              if (isMap) {
                if (callee.length === 0) throw new ReadsMap(`properties map given to ${t[i - 1]}`);
                for (const r of callee) mark(r, (x) => !x.params.has(n) && !!x.params.add(n));
              } else scan(a, b, thisIsMap);
            });
            if (thisIsMap) for (const r of callee) mark(r, (x) => !x.calledWithMap && (x.calledWithMap = true));
            i = end;
            continue;
          }
          if (tokI === '{' || tokI === '[') {
            const end = closing(t, i);
            const prev = i > from ? t[i - 1]! : '';
            if (LITERAL_CONTEXT.has(prev) || prev === '') {
              if (tokI === '{' && pendingWhen) throw new Unknown('a struct literal in a when condition');
              i = end;
              continue;
            }
            if (tokI === '{' && pendingWhen) {
              pendingWhen = false;
              scan(i + 1, end, thisIsMap);
            } else {
              const subjectIsMap = prev !== ']' && t[i - 2] !== '.' && isMapValue(i - 1, thisIsMap);
              if (subjectIsMap && tokI === '[') {
                // A filter over the map yields the map: only a block over it may follow.
                if (t[end + 1] !== '{') throw new ReadsMap('a filtered properties map used other than by a block');
                scan(i + 1, end, true);
                scan(end + 2, closing(t, end + 1), true);
                i = closing(t, end + 1);
                continue;
              }
              scan(i + 1, end, subjectIsMap);
            }
            i = end;
            continue;
          }
          if (isMapValue(i, thisIsMap)) {
            const next = t[i + 1] ?? '';
            if (next === '{' || next === '[') continue; // handled when the bracket is reached
            if (next === '.' && (isIdent(t[i + 2]) || isString(t[i + 2])) && t[i + 2] !== 'this') {
              i += 2;
              continue;
            }
            if (shapeCheckAfter(tok, i)) continue;
            throw new ReadsMap(`properties map used as \`${tokI} ${next}\``);
          }
        }
      };
      for (const [a, b] of ranges) scan(a, b, state.calledWithMap);
    }
  }
}

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
