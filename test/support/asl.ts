/**
 * Runs Step Functions definitions from synthesized CloudFormation templates in-process.
 *
 * `definitionFromTemplate` turns the `DefinitionString` of a synthesized state machine into the
 * ASL document CloudFormation would deploy, with every intrinsic replaced by a concrete,
 * well-formed value (ARNs, names, imports). `runDefinition` executes it with
 * aws-local-stepfunctions, Task states answered by local handlers, and reports what happened.
 */
import { createHash } from 'node:crypto';
import aslValidator from 'asl-validator';
import type { StateMachineDefinition } from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };

// The package is ESM-first; its CommonJS build is what `require` loads here (tsconfig module: commonjs).
type AwsLocalStepFunctions = typeof import('aws-local-stepfunctions', { with: { 'resolution-mode': 'import' } });
const { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('aws-local-stepfunctions') as AwsLocalStepFunctions;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An Amazon States Language document, as far as the harness needs to look into it. */
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  Comment?: string;
  [key: string]: unknown;
}

export interface AslState {
  Type: string;
  [key: string]: Json | undefined;
}

/** What a synthesized template must hold for the resolver; `Template.fromStack(stack).toJSON()` fits. */
export interface CfnTemplateLike {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
}

export interface ResolveOptions {
  /** @default 'us-west-2' (the migration stage's default region) */
  readonly region?: string;
  /** @default '123456789012' */
  readonly account?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'TestStack' */
  readonly stackName?: string;
  /** Values for `Fn::ImportValue` by export name; an export not listed gets a deterministic fake. */
  readonly imports?: Record<string, string>;
  /** Values for `Ref` to template parameters; otherwise the parameter's `Default` is used. */
  readonly parameters?: Record<string, string>;
}

const DEFAULTS = { region: 'us-west-2', account: '123456789012', partition: 'aws', stackName: 'TestStack' };

/** Thrown when the template cannot be turned into a definition; the message names the place. */
export class TemplateResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateResolutionError';
  }
}

/** Thrown when asl-validator rejects a definition; `errors` holds its findings. */
export class AslValidationError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(`State machine definition is invalid:\n  ${errors.join('\n  ')}`);
    this.name = 'AslValidationError';
  }
}

/**
 * Finds the `AWS::StepFunctions::StateMachine` in a synthesized template (the only one, or the one
 * with `logicalId`), resolves the intrinsics in its definition, parses and validates it.
 */
export function definitionFromTemplate(template: object, logicalId?: string, opts: ResolveOptions = {}): AslDefinition {
  const tpl = template as CfnTemplateLike;
  const resources = tpl.Resources ?? {};
  const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  let entry: [string, { Type: string; Properties?: Record<string, unknown> }] | undefined;
  if (logicalId !== undefined) {
    entry = machines.find(([id]) => id === logicalId);
    if (!entry) {
      throw new TemplateResolutionError(
        `No AWS::StepFunctions::StateMachine with logical id ${logicalId}; the template has: ${machines.map(([id]) => id).join(', ') || 'none'}`,
      );
    }
  } else {
    if (machines.length !== 1) {
      throw new TemplateResolutionError(
        `Expected exactly one AWS::StepFunctions::StateMachine, found ${machines.length}` +
          (machines.length ? ` (${machines.map(([id]) => id).join(', ')}); pass a logical id` : ''),
      );
    }
    entry = machines[0];
  }
  const [id, resource] = entry!;
  const props = resource.Properties ?? {};
  const resolver = new IntrinsicResolver(tpl, opts);

  let definition: unknown;
  if (props.DefinitionString !== undefined) {
    let text = resolver.resolve(props.DefinitionString, `${id}.DefinitionString`);
    if (typeof text !== 'string') {
      throw new TemplateResolutionError(`${id}.DefinitionString resolved to ${typeof text}, expected a string`);
    }
    text = applySubstitutions(text, props.DefinitionSubstitutions, resolver, id);
    try {
      definition = JSON.parse(text);
    } catch (e) {
      throw new TemplateResolutionError(
        `${id}.DefinitionString is not JSON after resolution (${(e as Error).message}): ${text.slice(0, 300)}`,
      );
    }
  } else if (props.Definition !== undefined) {
    definition = resolver.resolve(props.Definition, `${id}.Definition`);
  } else {
    throw new TemplateResolutionError(
      `${id} has neither DefinitionString nor Definition (DefinitionS3Location is not supported here)`,
    );
  }
  validateDefinition(definition);
  return definition as AslDefinition;
}

/** Validates with asl-validator (ARN and JSONPath checks on) and throws `AslValidationError` with its findings. */
export function validateDefinition(definition: unknown): asserts definition is AslDefinition {
  // The validator writes QueryLanguage into the states it visits; keep the caller's object as it was.
  const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });
  if (!result.isValid) {
    throw new AslValidationError(result.errors.map((e) => `${e['Error code']}: ${e.Message}`));
  }
}

/** Resolves intrinsic functions anywhere in `value` against `template`, as CloudFormation would at deploy time. */
export function resolveIntrinsics(value: unknown, template: object, opts: ResolveOptions = {}): Json {
  const resolved = new IntrinsicResolver(template as CfnTemplateLike, opts).resolve(value, '$');
  return resolved === NO_VALUE ? null : resolved;
}

function applySubstitutions(text: string, subs: unknown, resolver: IntrinsicResolver, id: string): string {
  if (subs === undefined) return text;
  const resolved = resolver.resolve(subs, `${id}.DefinitionSubstitutions`);
  if (!isPlainObject(resolved)) {
    throw new TemplateResolutionError(`${id}.DefinitionSubstitutions must be an object`);
  }
  return text.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    const v = resolved[name];
    return v === undefined ? whole : String(v);
  });
}

// ---------------------------------------------------------------------------------------------
// Intrinsic resolution

/** Marks `Ref: AWS::NoValue`, which removes the property or list element that holds it. */
const NO_VALUE = Symbol('AWS::NoValue');
type Resolved = Json | typeof NO_VALUE;

class IntrinsicResolver {
  private readonly region: string;
  private readonly account: string;
  private readonly partition: string;
  private readonly stackName: string;

  constructor(
    private readonly template: CfnTemplateLike,
    private readonly opts: ResolveOptions,
  ) {
    this.region = opts.region ?? DEFAULTS.region;
    this.account = opts.account ?? DEFAULTS.account;
    this.partition = opts.partition ?? DEFAULTS.partition;
    this.stackName = opts.stackName ?? DEFAULTS.stackName;
  }

  resolve(value: unknown, path: string): Resolved {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return value;
    }
    if (Array.isArray(value)) {
      return value.map((v, i) => this.resolve(v, `${path}[${i}]`)).filter((v): v is Json => v !== NO_VALUE);
    }
    if (!isPlainObject(value)) {
      throw new TemplateResolutionError(`${path}: unsupported value of type ${typeof value}`);
    }
    const keys = Object.keys(value);
    const only = keys.length === 1 ? keys[0]! : undefined;
    if (only !== undefined && (only === 'Ref' || only === 'Condition' || only.startsWith('Fn::'))) {
      return this.intrinsic(only, value[only], `${path}.${only}`);
    }
    const out: Record<string, Json> = {};
    for (const k of keys) {
      const v = this.resolve(value[k], `${path}.${k}`);
      if (v !== NO_VALUE) out[k] = v;
    }
    return out;
  }

  private intrinsic(fn: string, arg: unknown, path: string): Resolved {
    switch (fn) {
      case 'Ref':
        return this.ref(this.str(arg, path), path);
      case 'Fn::GetAtt':
        return this.getAtt(arg, path);
      case 'Fn::Join': {
        const [delimiter, list] = this.pair(arg, path);
        const items = this.list(this.resolve(list, `${path}[1]`), `${path}[1]`);
        return items.map((v, i) => this.scalar(v, `${path}[1][${i}]`)).join(this.str(delimiter, `${path}[0]`));
      }
      case 'Fn::Sub':
        return this.sub(arg, path);
      case 'Fn::Select': {
        const [index, list] = this.pair(arg, path);
        const i = Number(this.resolve(index, `${path}[0]`));
        const items = this.list(this.resolve(list, `${path}[1]`), `${path}[1]`);
        if (!Number.isInteger(i) || i < 0 || i >= items.length) {
          throw new TemplateResolutionError(`${path}: index ${String(index)} is outside a list of ${items.length}`);
        }
        return items[i]!;
      }
      case 'Fn::Split': {
        const [delimiter, source] = this.pair(arg, path);
        const text = this.resolve(source, `${path}[1]`);
        if (typeof text !== 'string') throw new TemplateResolutionError(`${path}: Fn::Split needs a string to split`);
        return text.split(this.str(delimiter, `${path}[0]`));
      }
      case 'Fn::ImportValue': {
        const name = this.resolve(arg, path);
        if (typeof name !== 'string')
          throw new TemplateResolutionError(`${path}: export name must resolve to a string`);
        return this.opts.imports?.[name] ?? this.fakeImport(name);
      }
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((s) => `${this.region}${s}`);
      case 'Fn::Base64':
        return Buffer.from(this.scalar(this.resolve(arg, path), path)).toString('base64');
      case 'Fn::FindInMap': {
        const parts = this.list(this.resolve(arg, path), path).map((p, i) => this.scalar(p, `${path}[${i}]`));
        const [map, top, second] = parts;
        const found = this.template.Mappings?.[map ?? '']?.[top ?? '']?.[second ?? ''];
        if (found === undefined) throw new TemplateResolutionError(`${path}: no mapping ${parts.join('/')}`);
        return this.resolve(found, path);
      }
      case 'Fn::If': {
        const args = this.list(arg as Json, path);
        if (args.length !== 3) throw new TemplateResolutionError(`${path}: Fn::If takes [condition, then, else]`);
        const chosen = this.condition(this.str(args[0], `${path}[0]`), path) ? args[1] : args[2];
        return this.resolve(chosen, path);
      }
      case 'Condition':
      case 'Fn::Equals':
      case 'Fn::Not':
      case 'Fn::And':
      case 'Fn::Or':
        return this.evaluateCondition({ [fn]: arg }, path);
      default:
        throw new TemplateResolutionError(`${path}: intrinsic ${fn} is not supported by the test resolver`);
    }
  }

  private ref(name: string, path: string): Resolved {
    switch (name) {
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.account;
      case 'AWS::URLSuffix':
        return this.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:${this.partition}:cloudformation:${this.region}:${this.account}:stack/${this.stackName}/${fakeUuid(this.stackName)}`;
      case 'AWS::NotificationARNs':
        return [];
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter) {
      const v = this.opts.parameters?.[name] ?? parameter.Default;
      if (v === undefined) {
        throw new TemplateResolutionError(`${path}: parameter ${name} has no Default; pass it in opts.parameters`);
      }
      return this.resolve(v, path);
    }
    return fakeResource(this.resourceOf(name, path), this.env()).ref;
  }

  private getAtt(arg: unknown, path: string): Json {
    let logicalId: string;
    let attribute: string;
    if (typeof arg === 'string') {
      const dot = arg.indexOf('.');
      if (dot < 0) throw new TemplateResolutionError(`${path}: "${arg}" is not LogicalId.Attribute`);
      logicalId = arg.slice(0, dot);
      attribute = arg.slice(dot + 1);
    } else {
      const [id, attr] = this.pair(arg, path);
      logicalId = this.str(id, `${path}[0]`);
      attribute = this.str(this.resolve(attr, `${path}[1]`), `${path}[1]`);
    }
    return fakeResource(this.resourceOf(logicalId, path), this.env()).attribute(attribute);
  }

  private sub(arg: unknown, path: string): string {
    let text: string;
    let vars: Record<string, Json> = {};
    if (typeof arg === 'string') {
      text = arg;
    } else {
      const [t, map] = this.pair(arg, path);
      text = this.str(t, `${path}[0]`);
      const resolved = this.resolve(map, `${path}[1]`);
      if (!isPlainObject(resolved)) throw new TemplateResolutionError(`${path}[1]: Fn::Sub variables must be a map`);
      vars = resolved as Record<string, Json>;
    }
    return text.replace(/\$\{([^}]*)\}/g, (_whole, expr: string) => {
      if (expr.startsWith('!')) return `\${${expr.slice(1)}}`; // ${!Literal} stays literal
      if (expr in vars) return this.scalar(vars[expr]!, `${path}.${expr}`);
      const dot = expr.indexOf('.');
      if (dot > 0 && !expr.startsWith('AWS::')) return this.scalar(this.getAtt(expr, `${path}.${expr}`), path);
      return this.scalar(this.ref(expr, `${path}.${expr}`), `${path}.${expr}`);
    });
  }

  private condition(name: string, path: string): boolean {
    const body = this.template.Conditions?.[name];
    if (body === undefined) throw new TemplateResolutionError(`${path}: no condition named ${name}`);
    return this.evaluateCondition(body, `Conditions.${name}`);
  }

  private evaluateCondition(body: unknown, path: string): boolean {
    if (!isPlainObject(body)) throw new TemplateResolutionError(`${path}: condition must be an object`);
    const [fn, arg] = Object.entries(body)[0] ?? [];
    switch (fn) {
      case 'Condition':
        return this.condition(this.str(arg, path), path);
      case 'Fn::Equals': {
        const [a, b] = this.pair(arg, path);
        return JSON.stringify(this.resolve(a, path)) === JSON.stringify(this.resolve(b, path));
      }
      case 'Fn::Not':
        return !this.evaluateCondition(this.list(arg as Json, path)[0], path);
      case 'Fn::And':
        return this.list(arg as Json, path).every((c) => this.evaluateCondition(c, path));
      case 'Fn::Or':
        return this.list(arg as Json, path).some((c) => this.evaluateCondition(c, path));
      default:
        throw new TemplateResolutionError(`${path}: ${String(fn)} is not a condition function`);
    }
  }

  private resourceOf(logicalId: string, path: string): FakeResourceInput {
    const resource = this.template.Resources?.[logicalId];
    if (!resource) throw new TemplateResolutionError(`${path}: no resource or parameter named ${logicalId}`);
    return { logicalId, type: resource.Type, properties: resource.Properties ?? {} };
  }

  private fakeImport(name: string): string {
    const slug = name.replace(/[^A-Za-z0-9-]/g, '-').replace(/-+/g, '-');
    // CDK names cross-stack exports after what they export (…FnGetAtt<Id>Arn…); keep ARNs ARN-shaped.
    return /arn/i.test(name)
      ? `arn:${this.partition}:imported:${this.region}:${this.account}:export/${slug}`
      : `imported-${slug}`;
  }

  private env(): FakeEnv {
    return { region: this.region, account: this.account, partition: this.partition };
  }

  private pair(arg: unknown, path: string): [unknown, unknown] {
    if (!Array.isArray(arg) || arg.length !== 2) throw new TemplateResolutionError(`${path}: expected a list of two`);
    return [arg[0], arg[1]];
  }

  private list(value: Resolved | undefined, path: string): Json[] {
    if (!Array.isArray(value)) throw new TemplateResolutionError(`${path}: expected a list`);
    return value;
  }

  private str(value: unknown, path: string): string {
    if (typeof value !== 'string') throw new TemplateResolutionError(`${path}: expected a string`);
    return value;
  }

  private scalar(value: Resolved | undefined, path: string): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new TemplateResolutionError(`${path}: expected a string, got ${JSON.stringify(value)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Fake physical ids: well-formed, deterministic, derived from logical id and resource type.

interface FakeEnv {
  region: string;
  account: string;
  partition: string;
}

interface FakeResourceInput {
  logicalId: string;
  type: string;
  properties: Record<string, unknown>;
}

interface FakeResource {
  ref: string;
  attribute(name: string): string;
}

/** Name properties CDK or users set; a literal one is used as the physical name, as CloudFormation would. */
const NAME_PROPERTIES = [
  'FunctionName',
  'TopicName',
  'QueueName',
  'BucketName',
  'StateMachineName',
  'TableName',
  'RoleName',
  'LogGroupName',
  'ReplicationTaskIdentifier',
  'ReplicationInstanceIdentifier',
  'EndpointIdentifier',
  'DBClusterIdentifier',
  'DBInstanceIdentifier',
  'DomainName',
  'ClusterName',
  'Name',
];

function physicalName(r: FakeResourceInput): string {
  for (const p of NAME_PROPERTIES) {
    const v = r.properties[p];
    if (typeof v === 'string' && v !== '') return v;
  }
  // CloudFormation's generated names look like <stack>-<logicalId>-<suffix>; the logical id keeps them readable.
  return `${r.logicalId.slice(0, 40)}-${hash(r.logicalId, 12).toUpperCase()}`;
}

function fakeResource(r: FakeResourceInput, env: FakeEnv): FakeResource {
  const { region, account, partition } = env;
  const arn = (service: string, resource: string, withRegion = true, withAccount = true): string =>
    `arn:${partition}:${service}:${withRegion ? region : ''}:${withAccount ? account : ''}:${resource}`;
  const name = physicalName(r);
  const lower = name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const id = (prefix: string): string => `${prefix}-${hash(r.logicalId, 17)}`;

  let ref: string;
  let resourceArn: string;
  const extra: Record<string, string> = {};
  switch (r.type) {
    case 'AWS::Lambda::Function':
      ref = name;
      resourceArn = arn('lambda', `function:${name}`);
      break;
    case 'AWS::SNS::Topic':
      resourceArn = arn('sns', name);
      ref = resourceArn;
      extra.TopicArn = resourceArn;
      extra.TopicName = name;
      break;
    case 'AWS::SQS::Queue':
      resourceArn = arn('sqs', name);
      ref = `https://sqs.${region}.amazonaws.com/${account}/${name}`;
      extra.QueueUrl = ref;
      extra.QueueName = name;
      break;
    case 'AWS::S3::Bucket':
      ref = lower;
      resourceArn = arn('s3', lower, false, false);
      extra.DomainName = `${lower}.s3.amazonaws.com`;
      extra.RegionalDomainName = `${lower}.s3.${region}.amazonaws.com`;
      break;
    case 'AWS::StepFunctions::StateMachine':
      resourceArn = arn('states', `stateMachine:${name}`);
      ref = resourceArn;
      extra.Name = name;
      break;
    case 'AWS::IAM::Role':
      ref = name;
      resourceArn = arn('iam', `role/${name}`, false);
      extra.RoleId = `AROA${hash(r.logicalId, 17).toUpperCase()}`;
      break;
    case 'AWS::DynamoDB::Table':
      ref = name;
      resourceArn = arn('dynamodb', `table/${name}`);
      break;
    case 'AWS::Logs::LogGroup':
      ref = name;
      resourceArn = arn('logs', `log-group:${name}:*`);
      break;
    case 'AWS::KMS::Key':
      ref = fakeUuid(r.logicalId);
      resourceArn = arn('kms', `key/${ref}`);
      extra.KeyId = ref;
      break;
    case 'AWS::SecretsManager::Secret':
      resourceArn = arn('secretsmanager', `secret:${name}-${hash(r.logicalId, 6)}`);
      ref = resourceArn;
      break;
    case 'AWS::Events::Rule':
      ref = name;
      resourceArn = arn('events', `rule/${name}`);
      break;
    case 'AWS::Events::EventBus':
      ref = name;
      resourceArn = arn('events', `event-bus/${name}`);
      break;
    case 'AWS::Glue::Job':
      ref = name;
      resourceArn = arn('glue', `job/${name}`);
      break;
    case 'AWS::Glue::Database':
      ref = name;
      resourceArn = arn('glue', `database/${name}`);
      break;
    case 'AWS::DMS::ReplicationTask':
      resourceArn = arn('dms', `task:${hash(r.logicalId, 26).toUpperCase()}`);
      ref = resourceArn;
      extra.ReplicationTaskArn = resourceArn;
      break;
    case 'AWS::DMS::ReplicationInstance':
      resourceArn = arn('dms', `rep:${hash(r.logicalId, 26).toUpperCase()}`);
      ref = resourceArn;
      break;
    case 'AWS::DMS::Endpoint':
      resourceArn = arn('dms', `endpoint:${hash(r.logicalId, 26).toUpperCase()}`);
      ref = resourceArn;
      break;
    case 'AWS::DMS::ReplicationConfig':
      resourceArn = arn('dms', `replication-config:${hash(r.logicalId, 26).toUpperCase()}`);
      ref = resourceArn;
      break;
    case 'AWS::RDS::DBCluster':
      ref = lower;
      resourceArn = arn('rds', `cluster:${lower}`);
      extra['Endpoint.Address'] = `${lower}.cluster-${hash(r.logicalId, 12)}.${region}.rds.amazonaws.com`;
      extra['ReadEndpoint.Address'] = `${lower}.cluster-ro-${hash(r.logicalId, 12)}.${region}.rds.amazonaws.com`;
      extra['Endpoint.Port'] = '3306';
      extra.DBClusterResourceId = `cluster-${hash(r.logicalId, 26).toUpperCase()}`;
      break;
    case 'AWS::ECS::Cluster':
      ref = name;
      resourceArn = arn('ecs', `cluster/${name}`);
      break;
    case 'AWS::CloudWatch::Alarm':
      ref = name;
      resourceArn = arn('cloudwatch', `alarm:${name}`);
      break;
    case 'AWS::OpenSearchService::Domain':
      ref = lower;
      resourceArn = arn('es', `domain/${lower}`);
      extra.DomainArn = resourceArn;
      extra.DomainEndpoint = `search-${lower}-${hash(r.logicalId, 26)}.${region}.es.amazonaws.com`;
      break;
    case 'AWS::EC2::VPC':
      ref = id('vpc');
      resourceArn = arn('ec2', `vpc/${ref}`);
      break;
    case 'AWS::EC2::Subnet':
      ref = id('subnet');
      resourceArn = arn('ec2', `subnet/${ref}`);
      break;
    case 'AWS::EC2::SecurityGroup':
      ref = id('sg');
      resourceArn = arn('ec2', `security-group/${ref}`);
      extra.GroupId = ref;
      break;
    default: {
      // AWS::Service::Thing → arn:aws:service:region:account:thing/name
      const [, service = 'unknown', kind = 'resource'] = r.type.split('::');
      ref = name;
      resourceArn = arn(service.toLowerCase(), `${kind.toLowerCase()}/${name}`);
    }
  }

  return {
    ref,
    attribute(attr: string): string {
      const known = extra[attr];
      if (known !== undefined) return known;
      if (attr.endsWith('Arn')) return resourceArn;
      if (attr === 'Name' || attr.endsWith('Name')) return name;
      if (attr === 'Id') return ref;
      return `fake-${r.logicalId}-${attr.replace(/[^A-Za-z0-9]/g, '-')}`;
    },
  };
}

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function fakeUuid(seed: string): string {
  const h = hash(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Local execution

/** Answers a Task state locally; receives the state's effective input (after InputPath and Parameters). */
export type TaskHandler = (input: Json) => Promise<Json | undefined | void> | Json | undefined | void;

export interface RunDefinitionOptions {
  /** One handler per Task state name (nested Parallel/Map states included). Every Task state needs one. */
  readonly handlers: Record<string, TaskHandler>;
  /** Milliseconds to wait per Wait state name, or `'all-zero'` for no waiting anywhere. @default real waits */
  readonly waitOverrides?: Record<string, number> | 'all-zero';
  /** Milliseconds between retries per state name (a list sets it per retrier), or `'all-zero'`. @default real backoff */
  readonly retryOverrides?: Record<string, number | number[]> | 'all-zero';
  /** Context object fields (e.g. `Execution.Id`, `Execution.Name`) visible to `$$` paths. */
  readonly context?: Record<string, unknown>;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One entry of aws-local-stepfunctions' event log, narrowed to what tests read. */
export interface ExecutionEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  Error?: string;
  Cause?: unknown;
  retry?: { attempt: number };
  index?: number;
}

export interface RunResult {
  status: ExecutionStatus;
  /** The execution's output when it SUCCEEDED. */
  output?: Json;
  /** Error name on FAILED (e.g. a Fail state's Error, or a handler error's `name`); `States.Timeout` on TIMED_OUT. */
  error?: string;
  cause?: string;
  /** States entered (StateEntered events, nested ones included); a retry re-runs a state without entering it again. */
  transitions: number;
  /** StateRetried events. */
  retries: number;
  /** Names of the states entered, in order. */
  visited: string[];
  events: ExecutionEvent[];
}

/**
 * Error a handler throws to make its Task fail with a given error name, so `Retry` and `Catch`
 * match it by `ErrorEquals` (aws-local-stepfunctions compares the thrown error's `name`).
 */
export function taskError(name: string, message = name): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** Number of states entered in an event log. */
export function countTransitions(events: readonly ExecutionEvent[]): number {
  return events.filter((e) => e.type === 'StateEntered').length;
}

/** Names of the states entered in an event log, in order. */
export function visitedStates(events: readonly ExecutionEvent[]): string[] {
  return events.filter((e) => e.type === 'StateEntered' && e.state).map((e) => e.state!.name);
}

/** Names of all states of a type, including those inside Parallel branches and Map processors. */
export function stateNamesOfType(definition: AslDefinition, type: string): string[] {
  const names: string[] = [];
  const visit = (states: Record<string, AslState>): void => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === type) names.push(name);
      const nested: unknown[] = [
        ...(Array.isArray(state.Branches) ? state.Branches : []),
        state.ItemProcessor,
        state.Iterator,
      ];
      for (const n of nested) {
        if (isPlainObject(n) && isPlainObject(n.States)) visit(n.States as Record<string, AslState>);
      }
    }
  };
  visit(definition.States);
  return names;
}

/**
 * Runs a definition locally. Every Task state must have a handler (otherwise the library would try
 * to invoke a real Lambda function), and every handler must name a Task state (a renamed state
 * would otherwise leave a test silently exercising nothing).
 */
export async function runDefinition(
  definition: AslDefinition | object,
  input: Json,
  options: RunDefinitionOptions,
): Promise<RunResult> {
  if (typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers !== 'function') {
    throw new Error('aws-local-stepfunctions needs Promise.withResolvers (Node 22+); load test/support/setup.ts first');
  }
  const def = definition as AslDefinition;
  const tasks = stateNamesOfType(def, 'Task');
  const missing = tasks.filter((t) => !(t in options.handlers));
  if (missing.length) throw new Error(`No local handler for Task state(s): ${missing.join(', ')}`);
  const unknown = Object.keys(options.handlers).filter((h) => !tasks.includes(h));
  if (unknown.length) {
    throw new Error(
      `Handlers name states that are not Task states: ${unknown.join(', ')} (Task states: ${tasks.join(', ')})`,
    );
  }

  const waitTimeOverrides =
    options.waitOverrides === 'all-zero'
      ? Object.fromEntries(stateNamesOfType(def, 'Wait').map((n) => [n, 0]))
      : options.waitOverrides;
  const retryIntervalOverrides =
    options.retryOverrides === 'all-zero'
      ? Object.fromEntries(allStateNames(def).map((n) => [n, 0]))
      : options.retryOverrides;
  const taskResourceLocalHandlers = Object.fromEntries(
    Object.entries(options.handlers).map(([name, fn]) => [
      name,
      async (i: unknown) => ((await fn(i as Json)) ?? null) as never,
    ]),
  );

  // The library validates on construction too; our own validation already ran with the same checks.
  const machine = new StateMachine(def as unknown as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    ...(options.context ? { context: options.context } : {}),
  });
  const events: ExecutionEvent[] = [];
  const collected = (async () => {
    for await (const e of execution.eventLogs) events.push(e as unknown as ExecutionEvent);
  })();

  let result: Omit<RunResult, 'transitions' | 'retries' | 'visited' | 'events'>;
  try {
    const output = (await execution.result) as Json;
    result = { status: 'SUCCEEDED', output };
  } catch (e) {
    if (e instanceof ExecutionError) {
      result = { status: 'FAILED' };
    } else if (e instanceof ExecutionTimeoutError) {
      result = { status: 'TIMED_OUT', error: 'States.Timeout' };
    } else if (e instanceof ExecutionAbortedError) {
      result = { status: 'ABORTED' };
    } else {
      throw e;
    }
  }
  await collected;
  if (result.status === 'FAILED') {
    const failed = events.find((e) => e.type === 'ExecutionFailed');
    result.error = failed?.Error;
    result.cause = causeText(failed?.Cause);
  }
  return {
    ...result,
    transitions: countTransitions(events),
    retries: events.filter((e) => e.type === 'StateRetried').length,
    visited: visitedStates(events),
    events,
  };
}

function allStateNames(definition: AslDefinition): string[] {
  const types = ['Task', 'Parallel', 'Map', 'Pass', 'Wait', 'Choice', 'Succeed', 'Fail'];
  return types.flatMap((t) => stateNamesOfType(definition, t));
}

function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}
