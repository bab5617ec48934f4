import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/**
 * What a handler can ask AWS to do, read from its source, and what its role lets it do, read from the
 * synthesized template: the two halves of "every SDK call a handler makes is allowed by its role, and nothing
 * more" (SPEC.md, quality bars).
 *
 * Source side: starting at `lambda/<handler>/index.ts`, relative imports are followed (`.ts` files and folder
 * `index.ts`, including `lambda/shared/*`), and every `new XxxCommand(...)` whose class comes from an
 * `@aws-sdk/client-*` package or from `@aws-sdk/lib-dynamodb` (the Document client's item commands) is collected. A command whose package cannot be told throws: a call we cannot
 * attribute must not pass unchecked.
 *
 * Reachability: a shared module holds code that only some handlers use (the state table's `release`, which
 * sends DeleteItem, is called by the Glue trigger alone). Counting every command of every imported file would
 * demand permissions the handler never uses, which is the opposite of least privilege. So commands are
 * attributed to the named function, method or arrow function that encloses them, and only those reachable by
 * name from the entry (`handler`, or given roots) or from module top-level code count. References are by
 * name, so a name shared by two functions keeps both: the analysis may demand more than is used, never less,
 * short of calls made through computed names.
 */

/** IAM service prefix of each SDK v3 client package the handlers use. */
export const CLIENT_PREFIXES: Readonly<Record<string, string>> = {
  '@aws-sdk/client-glue': 'glue',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-database-migration-service': 'dms',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-datasync': 'datasync',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-codepipeline': 'codepipeline',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-cloudformation': 'cloudformation',
  '@aws-sdk/client-route-53': 'route53',
  '@aws-sdk/lib-dynamodb': 'dynamodb',
};

/** The DynamoDB operation each Document client command sends: `PutCommand` sends PutItem, `QueryCommand` Query. */
const DOCUMENT_CLIENT_OPERATIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Get: 'GetItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
  Query: 'Query',
  Scan: 'Scan',
  ExecuteStatement: 'ExecuteStatement',
  BatchExecuteStatement: 'BatchExecuteStatement',
  ExecuteTransaction: 'ExecuteTransaction',
};

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_LAMBDA_ROOT = path.join(PROJECT_ROOT, 'lambda');

export interface SdkCall {
  /** Class name as exported by the package, e.g. `StartJobRunCommand` (aliases resolved). */
  readonly command: string;
  readonly clientPackage: string;
  /** Path relative to the project root, and 1-based line. */
  readonly file: string;
  readonly line: number;
  /** Named function, method or variable the call sits in; `(module)` for top-level code. */
  readonly enclosing: string;
  /**
   * The request may name an object version: a `VersionId` member, or a copy whose source text in that file
   * is built with `?versionId=` (the documented CopySource syntax).
   */
  readonly versioned: boolean;
}

export interface AnalysisOptions {
  /** Folder holding the handler folders. @default <project>/lambda */
  readonly lambdaRoot?: string;
  /**
   * Names to start from. Handlers deployed once per custom-resource phase pass that phase's entry functions.
   * @default ['handler']
   */
  readonly roots?: readonly string[];
}

export interface HandlerAnalysis {
  /** Files read, relative to the project root. */
  readonly files: readonly string[];
  /** Reachable calls. */
  readonly calls: readonly SdkCall[];
  /** Calls found in code that nothing reachable names (kept for reports and for tests of the analysis). */
  readonly unreachableCalls: readonly SdkCall[];
}

interface FnNode {
  readonly id: number;
  readonly name: string;
  readonly refs: Set<string>;
  readonly isModule: boolean;
}

interface ParsedFile {
  readonly rel: string;
  readonly nodes: FnNode[];
  readonly calls: { call: SdkCall; node: number }[];
}

/** Resolves `./x` / `../shared/y` from `fromFile` to a `.ts` file or a folder's `index.ts`. */
function resolveRelative(fromFile: string, specifier: string): string {
  const base = path.resolve(path.dirname(fromFile), specifier.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${path.relative(PROJECT_ROOT, fromFile)}: cannot resolve import ${JSON.stringify(specifier)}`);
}

const isRelative = (s: string) => s.startsWith('./') || s.startsWith('../');
const isSdkClient = (s: string) => s.startsWith('@aws-sdk/client-') || s === '@aws-sdk/lib-dynamodb';

function functionName(node: ts.Node): string | undefined {
  const nameOf = (n: ts.PropertyName | ts.BindingName | undefined): string | undefined =>
    n !== undefined && (ts.isIdentifier(n) || ts.isStringLiteral(n) || ts.isPrivateIdentifier(n)) ? n.text : undefined;
  const isFn = (e: ts.Expression | undefined): boolean => {
    let x = e;
    while (
      x !== undefined &&
      (ts.isParenthesizedExpression(x) || ts.isAsExpression(x) || ts.isSatisfiesExpression(x))
    ) {
      x = x.expression;
    }
    return x !== undefined && (ts.isArrowFunction(x) || ts.isFunctionExpression(x));
  };
  if (ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) return node.name?.text;
  if (ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) {
    return nameOf(node.name);
  }
  if ((ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node)) && isFn(node.initializer))
    return nameOf(node.name);
  if (ts.isVariableDeclaration(node) && isFn(node.initializer)) return nameOf(node.name);
  return undefined;
}

function parseFile(file: string, nextId: () => number, enqueue: (f: string) => void): ParsedFile {
  const rel = path.relative(PROJECT_ROOT, file);
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const named = new Map<string, { pkg: string; imported: string }>();
  const namespaces = new Map<string, string>();
  const dynamicPackages = new Set<string>();

  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const specifier = statement.moduleSpecifier;
    if (specifier === undefined || !ts.isStringLiteral(specifier)) continue;
    const spec = specifier.text;
    const typeOnly = ts.isImportDeclaration(statement)
      ? statement.importClause?.isTypeOnly === true
      : statement.isTypeOnly;
    if (isRelative(spec) && !typeOnly) enqueue(resolveRelative(file, spec));
    if (!isSdkClient(spec) || !ts.isImportDeclaration(statement)) continue;
    const bindings = statement.importClause?.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) namespaces.set(bindings.name.text, spec);
    if (bindings && ts.isNamedImports(bindings)) {
      for (const el of bindings.elements)
        named.set(el.name.text, { pkg: spec, imported: (el.propertyName ?? el.name).text });
    }
  }

  const moduleNode: FnNode = { id: nextId(), name: `(module ${rel})`, refs: new Set(), isModule: true };
  const nodes: FnNode[] = [moduleNode];
  const pendingNews: { expr: ts.NewExpression; node: FnNode }[] = [];

  const visit = (n: ts.Node, current: FnNode): void => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) return;
    if (ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n) || ts.isTypeNode(n)) return;
    if (ts.isCallExpression(n)) {
      const arg = n.arguments[0];
      const dynamic =
        n.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(n.expression) && n.expression.text === 'require');
      if (dynamic && arg !== undefined && ts.isStringLiteralLike(arg)) {
        if (isSdkClient(arg.text)) dynamicPackages.add(arg.text);
        if (isRelative(arg.text)) enqueue(resolveRelative(file, arg.text));
      }
    }
    const name = functionName(n);
    let owner = current;
    if (name !== undefined) {
      owner = { id: nextId(), name, refs: new Set(), isModule: false };
      nodes.push(owner);
    }
    if (ts.isNewExpression(n)) pendingNews.push({ expr: n, node: owner });
    if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) {
      // A declaration's own name is not a reference to it.
      const parent = n.parent;
      const declares =
        parent !== undefined && functionName(parent) !== undefined && (parent as { name?: ts.Node }).name === n;
      if (!declares) owner.refs.add(n.text);
    }
    if (ts.isElementAccessExpression(n) && ts.isStringLiteralLike(n.argumentExpression))
      owner.refs.add(n.argumentExpression.text);
    ts.forEachChild(n, (child) => visit(child, owner));
  };
  ts.forEachChild(source, (child) => visit(child, moduleNode));

  const calls: { call: SdkCall; node: number }[] = [];
  for (const { expr, node } of pendingNews) {
    const callee = expr.expression;
    const line = source.getLineAndCharacterOfPosition(expr.getStart(source)).line + 1;
    let command: string | undefined;
    let pkg: string | undefined;
    if (ts.isIdentifier(callee)) {
      const imported = named.get(callee.text);
      if (imported) {
        command = imported.imported;
        pkg = imported.pkg;
      } else if (callee.text.endsWith('Command')) {
        throw new Error(`${rel}:${line}: new ${callee.text}(...) is not imported from an @aws-sdk/client-* package`);
      }
    } else if (ts.isPropertyAccessExpression(callee) && callee.name.text.endsWith('Command')) {
      command = callee.name.text;
      let root: ts.Expression = callee.expression;
      while (ts.isPropertyAccessExpression(root)) root = root.expression;
      const ns = ts.isIdentifier(root) ? namespaces.get(root.text) : undefined;
      if (ns !== undefined) pkg = ns;
      else if (dynamicPackages.size === 1) pkg = [...dynamicPackages][0];
      else {
        throw new Error(
          `${rel}:${line}: cannot tell which @aws-sdk/client-* package ${callee.getText(source)} comes from ` +
            `(dynamic loads in this file: ${[...dynamicPackages].join(', ') || 'none'})`,
        );
      }
    }
    if (command === undefined || pkg === undefined || !command.endsWith('Command')) continue;
    const arg = expr.arguments?.[0];
    const hasVersionId =
      arg !== undefined &&
      ts.isObjectLiteralExpression(arg) &&
      arg.properties.some((p) => p.name !== undefined && ts.isIdentifier(p.name) && p.name.text === 'VersionId');
    const isCopy = command === 'CopyObjectCommand' || command === 'UploadPartCopyCommand';
    calls.push({
      call: {
        command,
        clientPackage: pkg,
        file: rel,
        line,
        enclosing: node.isModule ? '(module)' : node.name,
        versioned: hasVersionId || (isCopy && text.includes('?versionId=')),
      },
      node: node.id,
    });
  }
  return { rel, nodes, calls };
}

/** Every SDK command `lambda/<handlerFolder>/index.ts` can reach, with where each is sent from. */
export function analyseHandler(handlerFolder: string, options: AnalysisOptions = {}): HandlerAnalysis {
  const lambdaRoot = options.lambdaRoot ?? DEFAULT_LAMBDA_ROOT;
  const entry = path.join(lambdaRoot, handlerFolder, 'index.ts');
  if (!fs.existsSync(entry)) throw new Error(`handler ${handlerFolder} has no ${path.relative(PROJECT_ROOT, entry)}`);
  let counter = 0;
  const nextId = () => counter++;
  const queue = [entry];
  const seen = new Set<string>();
  const parsed: ParsedFile[] = [];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    parsed.push(parseFile(file, nextId, (f) => queue.push(f)));
  }

  const byName = new Map<string, FnNode[]>();
  const all = parsed.flatMap((p) => p.nodes);
  for (const node of all) byName.set(node.name, [...(byName.get(node.name) ?? []), node]);
  const roots = options.roots ?? ['handler'];
  const entryRel = path.relative(PROJECT_ROOT, entry);
  const entryNodes = parsed.find((p) => p.rel === entryRel)?.nodes ?? [];
  for (const root of roots) {
    if (!all.some((n) => n.name === root)) throw new Error(`${handlerFolder}: no function named ${root} to start from`);
  }
  if (options.roots === undefined && !entryNodes.some((n) => n.name === 'handler')) {
    throw new Error(`${entryRel} defines no function named handler`);
  }

  const reachable = new Set<number>();
  const work: FnNode[] = [...all.filter((n) => n.isModule), ...roots.flatMap((r) => byName.get(r) ?? [])];
  while (work.length > 0) {
    const node = work.pop() as FnNode;
    if (reachable.has(node.id)) continue;
    reachable.add(node.id);
    for (const ref of node.refs)
      for (const target of byName.get(ref) ?? []) if (!reachable.has(target.id)) work.push(target);
  }
  const calls = parsed.flatMap((p) => p.calls);
  return {
    files: parsed.map((p) => p.rel),
    calls: calls.filter((c) => reachable.has(c.node)).map((c) => c.call),
    unreachableCalls: calls.filter((c) => !reachable.has(c.node)).map((c) => c.call),
  };
}

/**
 * IAM actions one SDK command needs (Service Authorization Reference). Most are `<prefix>:<Operation>`; S3
 * object operations are authorized by the object action they amount to.
 */
export function iamActionsFor(call: Pick<SdkCall, 'command' | 'clientPackage' | 'versioned'>): string[] {
  const prefix = CLIENT_PREFIXES[call.clientPackage];
  if (prefix === undefined)
    throw new Error(`no IAM prefix known for ${call.clientPackage} (add it to CLIENT_PREFIXES)`);
  if (!call.command.endsWith('Command')) throw new Error(`${call.command} is not an SDK command class name`);
  const named = call.command.slice(0, -'Command'.length);
  const operation = call.clientPackage === '@aws-sdk/lib-dynamodb' ? DOCUMENT_CLIENT_OPERATIONS[named] : named;
  if (operation === undefined) throw new Error(`${call.command} is not a Document client command this check knows`);
  // A VersionId that may be undefined at run time needs both the plain and the version action.
  const read = call.versioned ? ['s3:GetObject', 's3:GetObjectVersion'] : ['s3:GetObject'];
  if (prefix === 's3') {
    switch (operation) {
      case 'GetObject':
      case 'HeadObject':
        return read;
      case 'CopyObject':
      case 'UploadPartCopy':
        return [...read, 's3:PutObject'];
      case 'PutObject':
      case 'UploadPart':
      case 'CreateMultipartUpload':
      case 'CompleteMultipartUpload':
        return ['s3:PutObject'];
      case 'AbortMultipartUpload':
        return ['s3:AbortMultipartUpload'];
      case 'DeleteObject':
        return call.versioned ? ['s3:DeleteObject', 's3:DeleteObjectVersion'] : ['s3:DeleteObject'];
      case 'DeleteObjects':
        return ['s3:DeleteObject'];
      case 'ListObjects':
      case 'ListObjectsV2':
        return ['s3:ListBucket'];
      case 'ListObjectVersions':
        return ['s3:ListBucketVersions'];
      case 'ListMultipartUploads':
        return ['s3:ListBucketMultipartUploads'];
      case 'ListParts':
        return ['s3:ListMultipartUploadParts'];
      case 'HeadBucket':
        return ['s3:ListBucket'];
      case 'GetObjectTagging':
        return call.versioned ? ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'] : ['s3:GetObjectTagging'];
      case 'PutObjectTagging':
        return call.versioned ? ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'] : ['s3:PutObjectTagging'];
      default:
        return [`s3:${operation}`];
    }
  }
  // Batch variants are authorized by the single-entry action.
  const batch: Record<string, string> = {
    'sqs:SendMessageBatch': 'sqs:SendMessage',
    'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
    'sns:PublishBatch': 'sns:Publish',
  };
  const action = `${prefix}:${operation}`;
  return [batch[action] ?? action];
}

/** Each action the calls need, with the calls that need it (for error messages). */
export function requiredActions(calls: readonly SdkCall[]): Map<string, SdkCall[]> {
  const out = new Map<string, SdkCall[]>();
  for (const call of calls)
    for (const action of iamActionsFor(call)) out.set(action, [...(out.get(action) ?? []), call]);
  return out;
}

// ---- the role side ----------------------------------------------------------------------------------

export interface PolicyStatementJson {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly Sid?: string;
}

/** A statement with where it came from, for messages. */
export interface SourcedStatement {
  readonly source: string;
  readonly statement: PolicyStatementJson;
}

/** The parts of a synthesized CloudFormation template read here. */
export interface TemplateJson {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value?: unknown; Export?: { Name?: unknown } }>;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Every statement that applies to role `roleId` of stack `roleStack`: the role's inline policies, and every
 * AWS::IAM::Policy / AWS::IAM::ManagedPolicy (in any stack of `templates`) whose `Roles` names it, by `Ref`
 * in its own stack or through an output of its stack (`Fn::ImportValue` of the export, `Fn::GetStackOutput`
 * of the output). AWS-managed policy ARNs are returned separately: their content is not in the template.
 */
export function statementsForRole(
  templates: Record<string, TemplateJson>,
  roleStack: string,
  roleId: string,
): { statements: SourcedStatement[]; managedPolicyArns: unknown[] } {
  const home = templates[roleStack];
  const role = home?.Resources?.[roleId];
  if (role === undefined || role.Type !== 'AWS::IAM::Role')
    throw new Error(`${roleStack}/${roleId} is not an AWS::IAM::Role`);
  const statements: SourcedStatement[] = [];
  for (const policy of asArray(
    role.Properties?.Policies as { PolicyName: string; PolicyDocument: { Statement: unknown } }[],
  )) {
    for (const s of asArray(policy.PolicyDocument.Statement as PolicyStatementJson[])) {
      statements.push({ source: `${roleStack}/${roleId} inline ${policy.PolicyName}`, statement: s });
    }
  }
  const outputs = Object.entries(home?.Outputs ?? {}).filter(
    ([, o]) => JSON.stringify(o.Value) === JSON.stringify({ Ref: roleId }),
  );
  const outputNames = new Set(outputs.map(([name]) => name));
  const exportNames = new Set(outputs.map(([, o]) => JSON.stringify(o.Export?.Name)).filter((n) => n !== undefined));
  const namesRole = (stackId: string, value: unknown): boolean => {
    const ref = value as
      { Ref?: string; 'Fn::ImportValue'?: unknown; 'Fn::GetStackOutput'?: { OutputName?: string } } | undefined;
    if (stackId === roleStack && ref?.Ref === roleId) return true;
    if (ref?.['Fn::ImportValue'] !== undefined && exportNames.has(JSON.stringify(ref['Fn::ImportValue']))) return true;
    const out = ref?.['Fn::GetStackOutput'];
    return out?.OutputName !== undefined && outputNames.has(out.OutputName);
  };
  const managedPolicyArns: unknown[] = [];
  for (const arn of asArray(role.Properties?.ManagedPolicyArns as unknown[])) {
    const ref = arn as { Ref?: string };
    if (ref.Ref !== undefined && home?.Resources?.[ref.Ref]?.Type === 'AWS::IAM::ManagedPolicy') continue; // read below
    managedPolicyArns.push(arn);
  }
  for (const [stackId, template] of Object.entries(templates)) {
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const attached =
        asArray(resource.Properties?.Roles as unknown[]).some((r) => namesRole(stackId, r)) ||
        (stackId === roleStack &&
          asArray(role.Properties?.ManagedPolicyArns as unknown[]).some((a) => (a as { Ref?: string }).Ref === id));
      if (!attached) continue;
      const document = resource.Properties?.PolicyDocument as
        { Statement?: PolicyStatementJson | PolicyStatementJson[] } | undefined;
      for (const s of asArray(document?.Statement)) {
        statements.push({ source: `${stackId}/${id}`, statement: s });
      }
    }
  }
  return { statements, managedPolicyArns };
}

/** IAM action matching: case-insensitive, `*` any run, `?` one character. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(action);
}

/** Whether the statements allow `action` (some Allow names it; no Deny does). Resources are not compared. */
export function allows(
  statements: readonly SourcedStatement[],
  action: string,
): { allowed: boolean; by: string[]; deniedBy: string[] } {
  const by: string[] = [];
  const deniedBy: string[] = [];
  for (const { source, statement } of statements) {
    const matched = asArray(statement.Action).some((a) => typeof a === 'string' && actionMatches(a, action));
    const notMatched =
      statement.NotAction !== undefined && !asArray(statement.NotAction).some((a) => actionMatches(a, action));
    if (!matched && !notMatched) continue;
    if (statement.Effect === 'Deny') deniedBy.push(source);
    else if (statement.Effect === 'Allow') by.push(source);
  }
  return { allowed: by.length > 0 && deniedBy.length === 0, by, deniedBy };
}

/** Allow statements that grant a whole service or everything: `*`, `<service>:*`, or any `NotAction`. */
export function overlyBroadStatements(statements: readonly SourcedStatement[]): string[] {
  const out: string[] = [];
  for (const { source, statement } of statements) {
    if (statement.Effect !== 'Allow') continue;
    if (statement.NotAction !== undefined)
      out.push(`${source}: Allow with NotAction ${JSON.stringify(statement.NotAction)}`);
    for (const a of asArray(statement.Action)) {
      if (typeof a === 'string' && (a === '*' || /^[a-z0-9-]+:\*$/i.test(a))) out.push(`${source}: Action ${a}`);
    }
  }
  return out;
}

/** The actions `required` needs that `statements` do not allow, each with the source lines that need it. */
export function missingActions(required: Map<string, SdkCall[]>, statements: readonly SourcedStatement[]): string[] {
  const out: string[] = [];
  for (const [action, calls] of required) {
    const verdict = allows(statements, action);
    if (verdict.allowed) continue;
    const where = calls.map((c) => `${c.command} at ${c.file}:${c.line} (in ${c.enclosing})`).join('; ');
    const why =
      verdict.deniedBy.length > 0 ? `denied by ${verdict.deniedBy.join(', ')}` : 'no Allow statement names it';
    out.push(`${action} — ${why} — needed by ${where}`);
  }
  return out;
}
