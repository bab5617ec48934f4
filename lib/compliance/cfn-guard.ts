import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import {
  AspectPriority,
  Aspects,
  CfnResource,
  IAspect,
  IPolicyValidationContextBeta1,
  PolicyValidationPluginReportBeta1,
  Stack,
  Stage,
  Validations,
} from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { GuardReportCache } from './guard-cache';
import { ruleFileReads, ruleFileText } from './guard-rule-reads';

/**
 * AWS Control Tower proactive controls that do not fit this design on specific resources. Each entry
 * names the guard rule, the resource types (and optionally a construct-path pattern) it is
 * acknowledged on, and why. Acknowledgements are made resource by resource, so the same rule still
 * fails the synth on any other resource, and the compliance report lists every acknowledged one.
 */
export interface GuardAcknowledgement {
  /** Rule name as cfn-guard reports it (e.g. `sqs_dlq_check`). */
  readonly rule: string;
  /** Control Tower control id, for the reader. */
  readonly control: string;
  readonly types: readonly string[];
  /** Only resources whose construct path matches. @default every resource of the types */
  readonly path?: RegExp;
  readonly reason: string;
}

export const GUARD_ACKNOWLEDGEMENTS: readonly GuardAcknowledgement[] = [
  {
    rule: 'cloudwatch_log_group_encrypted_check',
    control: 'CT.CLOUDWATCH.PR.3',
    types: ['AWS::Logs::LogGroup'],
    reason:
      'CloudWatch Logs encrypts every group at rest with service keys; the Glue job group, which can hold row samples, uses the data key, given as a cross-stack reference the rule cannot read.',
  },
  {
    rule: 'cloudwatch_log_group_retention_period_check',
    control: 'CT.CLOUDWATCH.PR.2',
    types: ['AWS::Logs::LogGroup'],
    reason:
      'The control wants at least a year; retention is set per environment in EnvironmentConfig (14 days in dev, 365 in prod).',
  },
  {
    rule: 'lambda_inside_vpc_check',
    control: 'CT.LAMBDA.PR.3',
    types: ['AWS::Lambda::Function'],
    reason:
      'Data-path handlers and aws-cdk-lib helper functions call only AWS APIs; the functions that reach VPC resources run in the VPC, with subnets given as cross-stack references the rule cannot read.',
  },
  {
    rule: 'sqs_dlq_check',
    control: 'CT.SQS.PR.1',
    types: ['AWS::SQS::Queue'],
    path: /(Dlq|DeadLetterQueue)[^/]*\/Resource$/,
    reason: 'This queue is itself a dead-letter queue; a dead-letter queue of its own would only hide failures.',
  },
  {
    rule: 'sqs_queue_encrypted_check',
    control: 'CT.SQS.PR.2',
    types: ['AWS::SQS::Queue'],
    reason:
      'The queue is encrypted (KMS with a key from another stack, or SQS-managed SSE for function DLQs); the rule cannot read a cross-stack key reference.',
  },
  {
    rule: 'kms_create_grant_aws_service_check',
    control: 'CT.KMS.PR.3',
    types: ['AWS::KMS::Key'],
    reason:
      'RDS, Secrets Manager, DMS, Glue and Firehose create grants on these keys for their own resources; key use is limited by IAM policies scoped to the key.',
  },
  {
    rule: 's3_bucket_object_lock_enabled_check',
    control: 'CT.S3.PR.9',
    types: ['AWS::S3::Bucket'],
    reason:
      'Versioning with noncurrent-version expiry is the retention model; object lock would stop the quarantine, smoke-test and teardown flows from cleaning up.',
  },
  {
    rule: 's3_event_notifications_enabled_check',
    control: 'CT.S3.PR.4',
    types: ['AWS::S3::Bucket'],
    reason:
      'The data bucket sends events to EventBridge through a custom resource the rule cannot see; log and backup buckets have no consumer for events.',
  },
  {
    rule: 's3_bucket_default_encryption_kms_check',
    control: 'CT.S3.PR.10',
    types: ['AWS::S3::Bucket'],
    path: /AccessLog[^/]*\/Resource$/,
    reason: 'Server access log delivery supports SSE-S3 targets only, not SSE-KMS.',
  },
  {
    rule: 's3_bucket_logging_enabled_check',
    control: 'CT.S3.PR.2',
    types: ['AWS::S3::Bucket'],
    path: /AccessLog[^/]*\/Resource$/,
    reason: 'This is the access-log target bucket; logging it into itself would loop.',
  },
  {
    rule: 'rds_instance_automatic_minor_version_upgrade_enabled_check',
    control: 'CT.RDS.PR.5',
    types: ['AWS::RDS::DBInstance'],
    reason:
      'Aurora MySQL 3.10 is an LTS release; AWS recommends automatic minor upgrades off so the cluster stays on it (docs/adr/0003).',
  },
  {
    rule: 'aurora_cluster_backtracking_enabled_check',
    control: 'CT.RDS.PR.6',
    types: ['AWS::RDS::DBCluster'],
    reason:
      'Recovery uses 7-day backups with point-in-time restore (see the AwsSolutions-RDS14 acknowledgement on the cluster).',
  },
  {
    rule: 'ec2_instance_nitro_encryption_in_transit_check',
    control: 'CT.EC2.PR.19',
    types: ['AWS::EC2::Instance'],
    path: /\/AgentInstance\/Resource$/,
    reason:
      'The DataSync agent sizes AWS documents (m5) lack Nitro in-transit encryption; agent traffic is TLS to DataSync and NFS/SMB on-premises.',
  },
  {
    rule: 'ec2_instance_no_public_ip_check',
    control: 'CT.EC2.PR.8',
    types: ['AWS::EC2::Instance'],
    path: /\/AgentInstance\/Resource$/,
    reason:
      'The agent runs in a private subnet that assigns no public IPs; the rule wants an explicit network interface setting.',
  },
  {
    rule: 'ec2_launch_template_monitoring_enabled_check',
    control: 'CT.EC2.PR.10',
    types: ['AWS::EC2::LaunchTemplate'],
    path: /\/AgentInstance\/LaunchTemplate$/,
    reason: 'This launch template only enforces IMDSv2; detailed monitoring is on the instance itself.',
  },
  {
    rule: 'ec2_instance_no_public_ip_check',
    control: 'CT.EC2.PR.8',
    types: ['AWS::EC2::Instance'],
    path: /\/Vpc\/publicSubnet\d+\/NatInstance\/Resource$/,
    reason:
      "Dev's NAT instance (network.natProvider): it forwards the private subnets' traffic through its public address; its security group lets in only the VPC CIDR.",
  },
  {
    rule: 'ec2_instance_detailed_monitoring_enabled_check',
    control: 'CT.EC2.PR.13',
    types: ['AWS::EC2::Instance'],
    path: /\/Vpc\/publicSubnet\d+\/NatInstance\/Resource$/,
    reason:
      "Dev's NAT instance (network.natProvider): basic 5-minute metrics are enough for dev egress; detailed monitoring would add $2.10 a month to a $3 instance.",
  },
  {
    rule: 'ec2_instance_nitro_encryption_in_transit_check',
    control: 'CT.EC2.PR.19',
    types: ['AWS::EC2::Instance'],
    path: /\/Vpc\/publicSubnet\d+\/NatInstance\/Resource$/,
    reason:
      "Dev's NAT instance (network.natProvider): the t4g types lack Nitro in-transit encryption; what it forwards is HTTPS to AWS APIs and NTP, not instance-to-instance traffic.",
  },
  {
    rule: 'ec2_launch_template_monitoring_enabled_check',
    control: 'CT.EC2.PR.10',
    types: ['AWS::EC2::LaunchTemplate'],
    path: /\/Vpc\/publicSubnet\d+\/NatInstance\/LaunchTemplate$/,
    reason:
      "This launch template only enforces IMDSv2 on dev's NAT instance, which has no detailed monitoring (CT.EC2.PR.13).",
  },
  {
    rule: 'lambda_function_public_access_prohibited_check',
    control: 'CT.LAMBDA.PR.2',
    types: ['AWS::Lambda::Permission'],
    reason:
      'The permission lets one SNS topic (by SourceArn, a cross-stack reference) invoke the function; nothing public.',
  },
  {
    rule: 'step_functions_state_machine_tracing_enabled_check',
    control: 'CT.STEPFUNCTIONS.PR.2',
    types: ['AWS::StepFunctions::StateMachine'],
    path: /\/Provider\/waiter-state-machine\/Resource$/,
    reason: 'aws-cdk-lib custom-resource waiter with no tracing switch; the data-path workflow has tracing on.',
  },
  {
    rule: 'subnet_auto_assign_public_ip_disabled_check',
    control: 'CT.EC2.PR.11',
    types: ['AWS::EC2::Subnet'],
    path: /\/publicSubnet\d+\/Subnet$/,
    reason: 'Public subnets exist only for the NAT gateways.',
  },
  {
    rule: 'opensearch_https_required_check',
    control: 'CT.OPENSEARCH.PR.16',
    types: ['AWS::OpenSearchService::Domain'],
    reason: 'HTTPS is enforced with the TLS 1.2 PFS policy, newer than the policies the rule knows.',
  },
  {
    rule: 'opensearch_data_node_fault_tolerance_check',
    control: 'CT.OPENSEARCH.PR.14',
    types: ['AWS::OpenSearchService::Domain'],
    reason:
      'Prod runs two zone-aware data nodes (the seeds\u2019 sizing) and dev one small node for cost; the control wants three.',
  },
];

/**
 * Adds the Control Tower rules to a stage and acknowledges the entries above on the matching
 * resources of that stage: once now, for what exists, and again from an Aspect for resources that
 * aws-cdk-lib adds during synthesis (the IMDSv2 launch template of an instance, for one).
 *
 * @param options.startRuns the stage is already synthesized (CDK Pipelines synthesizes a stage as it is
 *   added): its cfn-guard runs start now in the worker pool, beside the building of the next stage,
 *   instead of when aws-cdk-lib validates at the end. Same findings either way. @default false
 */
export function addControlTowerGuard(
  stage: Stage,
  acknowledgements: readonly GuardAcknowledgement[] = GUARD_ACKNOWLEDGEMENTS,
  options: { startRuns?: boolean } = {},
): void {
  const validator = new TypeScopedCfnGuardValidator(stage);
  Validations.of(stage).addPlugins(validator);
  const acknowledger = new GuardAcknowledger(acknowledgements);
  for (const c of stage.node.findAll()) acknowledger.visit(c);
  Aspects.of(stage).add(acknowledger, { priority: AspectPriority.MUTATING });
  if (options.startRuns) validator.startRuns();
}

class GuardAcknowledger implements IAspect {
  private readonly done = new Set<string>();

  constructor(private readonly acknowledgements: readonly GuardAcknowledgement[]) {}

  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    for (const a of this.acknowledgements) {
      const key = `${node.node.path}|${a.rule}`;
      if (this.done.has(key)) continue;
      if (a.types.includes(node.cfnResourceType) && (!a.path || a.path.test(node.node.path))) {
        Validations.of(node).acknowledge({
          id: `cdk-validator-cfnguard::${a.rule}`,
          reason: `${a.control}: ${a.reason}`,
        });
        this.done.add(key);
      }
    }
  }
}

const GUARD_PACKAGE_DIR = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));

/** The Control Tower rule files the validator package ships. */
export const CONTROL_TOWER_RULES_DIR = path.join(GUARD_PACKAGE_DIR, 'rules', 'control-tower', 'cfn-guard');

const RESOURCE_TYPE_LITERAL = /["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']/g;

/**
 * Each Control Tower rule file with the resource types it names. Every shipped rule selects its
 * resources by a literal type (`let S3_BUCKET_TYPE = "AWS::S3::Bucket"`), so on a template without
 * any of them it finds nothing and passes. A rule naming no type is kept for every template.
 */
export function controlTowerRuleIndex(dir = CONTROL_TOWER_RULES_DIR): { file: string; types: string[] }[] {
  const files = (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.guard'))
    .map((f) => path.join(dir, f))
    .sort();
  return files.map((file) => ({
    file,
    types: [...new Set([...ruleFileText(file).matchAll(RESOURCE_TYPE_LITERAL)].map((m) => m[1]!))],
  }));
}

/**
 * Groups templates by the rule files that can apply to them (those naming a resource type the
 * template has), so cfn-guard evaluates each template against about a third of the 237 rules
 * instead of all of them. Templates with the same rule set share one cfn-guard run.
 */
export function planGuardRuns(
  templates: readonly { path: string; types: ReadonlySet<string> }[],
  index: readonly { file: string; types: readonly string[] }[],
): { rules: string[]; templatePaths: string[] }[] {
  const runs = new Map<string, { rules: string[]; templatePaths: string[] }>();
  for (const t of templates) {
    const rules = index.filter((r) => r.types.length === 0 || r.types.some((x) => t.types.has(x))).map((r) => r.file);
    if (rules.length === 0) continue;
    const key = rules.join('\n');
    const run = runs.get(key) ?? { rules, templatePaths: [] };
    run.templatePaths.push(t.path);
    runs.set(key, run);
  }
  return [...runs.values()];
}

/**
 * One cfn-guard invocation: rule files and the templates they check. `dataPaths`, when set, are what
 * cfn-guard reads instead of the templates, one per template (see projectRun); findings name the templates.
 */
export type GuardRun = { rules: string[]; templatePaths: string[]; dataPaths?: string[] };
type GuardReport = PolicyValidationPluginReportBeta1;

// Template order differs between the construct tree (early start) and the cloud assembly (validation).
const runKey = (run: GuardRun) => JSON.stringify([run.rules, run.templatePaths.map((p) => path.resolve(p)).sort()]);

type RuleIndex = readonly { file: string; types: readonly string[] }[];

let projectionDir: string | undefined;
let projections = 0;

/**
 * The run with each template cut down to what its rules read (ruleFileReads in guard-rule-reads.ts decides
 * that from each rule file alone):
 * - a resource whose type none of the run's rule files names loses its `Properties`; everything else
 *   (its `Type`, `Metadata`, `DependsOn`, the template's other sections) stays.
 * - a resource of a named type keeps the properties whose key appears in the text of one of the run's rule
 *   files, when every rule file naming that type reads its properties by key (`keys`: 234 of the 237
 *   Control Tower files). Otherwise, or if no key would be left, it keeps them all. A key that is not a
 *   plain word (never the case in CloudFormation) is always kept.
 * - when a rule file reads the template in a way the analysis does not follow (`unknown`: no Control Tower
 *   file), names no type, or is not in the index, every template of the run stays whole.
 * The copy is re-serialised JSON of the same values. cfn-guard copies the document it evaluates over and
 * over (most of its time is memory copies and mmap/munmap), so a smaller document is what makes it faster,
 * with the same findings (the equivalence tests in test/compliance/cfn-guard-scope.test.ts and report.test.ts,
 * `npx tsx bench/cfn-guard-runs.ts --all` over a whole synthesized app, and bench/cfn-guard-projection-fuzz.ts
 * over every rule file). The copies go to a temporary folder, removed when the process exits.
 */
export function projectRun(run: GuardRun, index: RuleIndex, reviewed = reviewedRuleFile): GuardRun {
  const files = run.rules.map((file) => index.find((r) => r.file === file));
  const followed = (r: RuleIndex[number] | undefined) =>
    r !== undefined && r.types.length > 0 && reviewed(r.file) && ruleFileReads(r.file) !== 'unknown';
  if (!files.every(followed)) return run;
  const rules = files as { file: string; types: readonly string[] }[];
  const named = new Set(rules.flatMap((r) => r.types));
  const wholeProperties = new Set(rules.filter((r) => ruleFileReads(r.file) !== 'keys').flatMap((r) => r.types));
  const texts = rules.map((r) => ruleFileText(r.file));
  const keyRead = (key: string) => !/^[A-Za-z0-9_]+$/.test(key) || texts.some((text) => text.includes(key));
  if (projectionDir === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-guard-data-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    projectionDir = dir;
  }
  const dir = path.join(projectionDir, String(projections++));
  fs.mkdirSync(dir);
  const dataPaths = run.templatePaths.map((p, i) => {
    const raw = fs.readFileSync(p, 'utf8');
    const template = JSON.parse(raw) as Record<string, unknown>;
    const resources = template.Resources;
    // Only a template that reads back as written (every template CDK writes, with an indent of 1), with a
    // map of resources each of which has a string Type, is cut down: numbers like 1.0 or 1e400 would not
    // survive re-serialising, and cfn-guard matches `Type ==` against a list too. Others are read as they are.
    const readsBack = [1, undefined, 2].some((indent) => JSON.stringify(template, undefined, indent) === raw);
    const cuttable =
      readsBack &&
      !PLUGIN_REVIVER_KEYS.test(raw) &&
      (resources === undefined ||
        (plain(resources) && Object.values(resources).every((r) => plain(r) && typeof r.Type === 'string')));
    if (!cuttable) return p;
    const out = path.join(dir, `${i}-${path.basename(p)}`);
    const cut = Object.entries((resources ?? {}) as Record<string, Record<string, unknown>>).map(([id, r]) => {
      const kept = { ...r };
      const type = r.Type as string;
      if (!named.has(type)) delete kept.Properties;
      else if (!wholeProperties.has(type)) kept.Properties = propertiesRead(kept.Properties, keyRead);
      return [id, kept] as const;
    });
    // Object.fromEntries keeps a logical id such as `__proto__` as a key, where an assignment would not.
    fs.writeFileSync(
      out,
      JSON.stringify(resources === undefined ? template : { ...template, Resources: Object.fromEntries(cut) }),
    );
    return out;
  });
  return { ...run, dataPaths };
}

/**
 * The plugin release whose Control Tower rule files the analysis was checked against: four independent
 * reviews that built rule files and templates to defeat it (every case is a test) and
 * bench/cfn-guard-projection-fuzz.ts.
 * A token-level reading of Guard cannot be shown right for every file Guard's grammar allows, so only
 * these files are cut down for; any other (an upgrade, a rule file of one's own) gets whole templates
 * until it is checked the same way and this version moves (test/compliance/guard-rule-reads.test.ts says so).
 */
export const REVIEWED_GUARD_PLUGIN_VERSION = '0.0.62';

const GUARD_PLUGIN_VERSION: string = (
  JSON.parse(fs.readFileSync(path.join(GUARD_PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }
).version;

/** Whether a rule file is one of the reviewed release's Control Tower files. */
export function reviewedRuleFile(file: string): boolean {
  return (
    GUARD_PLUGIN_VERSION === REVIEWED_GUARD_PLUGIN_VERSION &&
    path.resolve(file).startsWith(CONTROL_TOWER_RULES_DIR + path.sep)
  );
}

/**
 * Keys (any case, at any depth) that the plugin's parser of cfn-guard's output acts on wherever they appear,
 * template data that cfn-guard reports included (`reviver` in the plugin's plugin.js): a property holding one
 * can crash that parser or move a finding to another resource over the whole template, so a template with
 * one is handed over whole, and its findings stay exactly what the plugin makes of it.
 */
const PLUGIN_REVIVER_KEYS = /\\?"(traversed_to|traversed|unresolved|resolved|inresolved|not_compliant|checks)\\?"\s*:/i;

const plain = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The properties whose key a rule reads; all of them when none is, so a map never becomes empty. */
function propertiesRead(properties: unknown, keyRead: (key: string) => boolean): unknown {
  if (!plain(properties)) return properties;
  const kept = Object.entries(properties).filter(([key]) => keyRead(key));
  return kept.length === 0 ? properties : Object.fromEntries(kept);
}

/** cfn-guard's report of a run, with every finding naming the template (not the cut-down copy cfn-guard read). */
export function restoreTemplatePaths(run: GuardRun, report: GuardReport): GuardReport {
  const data = run.dataPaths;
  if (!data) return report;
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const template = new Map(data.map((d, i) => [real(d), run.templatePaths[i]!]));
  return {
    ...report,
    violations: report.violations.map((v) => ({
      ...v,
      violatingResources: v.violatingResources.map((r) => ({
        ...r,
        templatePath: template.get(real(r.templatePath)) ?? r.templatePath,
      })),
    })),
  };
}

/** Evaluates a run in this thread, over the cut-down templates when it has them. */
function evaluateRun(run: GuardRun, appConstruct?: IConstruct): GuardReport {
  const report = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: run.rules }).validate({
    appConstruct,
    templatePaths: run.dataPaths ?? run.templatePaths,
  } as IPolicyValidationContextBeta1);
  return restoreTemplatePaths(run, report);
}

/** The runs of planGuardRuns for these templates, read from disk. */
function planFor(templatePaths: readonly string[], index: RuleIndex) {
  const templates = templatePaths.map((p) => {
    const resources = (JSON.parse(fs.readFileSync(p, 'utf8')) as { Resources?: Record<string, { Type?: string }> })
      .Resources;
    return { path: p, types: new Set(Object.values(resources ?? {}).map((r) => r.Type ?? '')) };
  });
  return planGuardRuns(templates, index);
}

/**
 * Runs in a worker thread: takes the next published run from a shared counter, claims it (the main
 * thread may have claimed it first, see GuardRunPool.take), evaluates it with the package's own
 * CfnGuardValidator (so findings are parsed exactly as in the main thread) and posts the report.
 * Runs published after the worker started arrive as messages on its port, posted before they are
 * counted as published. It stops when the pool is closed and nothing is left, or after IDLE_MS with
 * nothing new (a pool whose app is never validated); a run it leaves is evaluated by the main thread.
 * Plain JavaScript, so it loads the same under tsx, compiled JS and jest.
 */
const GUARD_WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { port, idleMs } = workerData;
const control = new Int32Array(workerData.control);
const claims = new Int32Array(workerData.claims);
const [NEXT, FINISHED, PUBLISHED, CLOSED, LIVE] = [0, 1, 2, 3, 4];
try {
  const { CfnGuardValidator } = require(workerData.plugin);
  const runs = workerData.runs.slice();
  let idleSince = Date.now();
  work: for (;;) {
    const published = Atomics.load(control, PUBLISHED);
    const i = Atomics.load(control, NEXT);
    if (i >= published) {
      if (Atomics.load(control, CLOSED) === 1 || Date.now() - idleSince > idleMs) break;
      Atomics.wait(control, PUBLISHED, published, 250);
      continue;
    }
    if (Atomics.compareExchange(control, NEXT, i, i + 1) !== i) continue;
    // Posted before it was published, so it is there; were it not, the run is left unclaimed to the main thread.
    for (const since = Date.now(); runs.length <= i; ) {
      const m = receiveMessageOnPort(port);
      if (m) runs.push(...m.message);
      else if (Date.now() - since > 5000) break work;
      else Atomics.wait(control, PUBLISHED, published, 5);
    }
    if (Atomics.compareExchange(claims, i, 0, 1) !== 0) continue;
    let message;
    try {
      const validator = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: runs[i].rules });
      message = { i, report: validator.validate({ templatePaths: runs[i].dataPaths || runs[i].templatePaths }) };
    } catch (e) {
      message = { i, failed: String(e) };
    }
    port.postMessage(message);
    Atomics.add(control, FINISHED, 1);
    Atomics.notify(control, FINISHED);
    idleSince = Date.now();
  }
} finally {
  Atomics.sub(control, LIVE, 1);
  port.close();
}
`;

/** Who evaluates a run of the pool: nobody yet, a worker thread, or the main thread. */
const Claim = { Free: 0, Worker: 1, Main: 2 } as const;

/** Slots of the shared control array (the worker source names them the same). */
const Slot = { Next: 0, Finished: 1, Published: 2, Closed: 3, Live: 4 } as const;

/**
 * cfn-guard runs of a whole cloud assembly, evaluated by worker threads in the background and by the
 * main thread whenever it would otherwise wait. CDK Pipelines synthesizes each stage as it is added,
 * long before aws-cdk-lib calls the validation plugins (one after the other on its main thread, at the
 * end), so a stage's runs can be added as soon as its templates are written and run on another core
 * while the main thread builds the next stage (see addControlTowerGuard's `startRuns`); `close` says no
 * more runs will come. When the main thread needs a run, it evaluates that run itself if no worker has
 * started it, and otherwise evaluates other runs nobody has started until the worker is done, so no
 * core idles while runs are left. A run the pool does not have, failed or stalled on is evaluated in
 * the calling thread instead, so the findings never depend on the pool.
 */
export class GuardRunPool {
  private static readonly STALL_MS = 120_000;
  /** Runs a pool can hold; the claims live in shared memory of fixed size. Later runs are not pooled. */
  static readonly CAPACITY = 4096;
  private readonly index = new Map<string, number>();
  private readonly reports = new Map<number, GuardReport | undefined>();
  private readonly ports: MessagePort[] = [];
  private readonly runs: GuardRun[] = [];
  private readonly plugin = require.resolve('@cdklabs/cdk-validator-cfnguard');
  private readonly idleMs: number;
  /** See Slot: next run a worker takes, runs the workers finished, runs published, closed, live workers. */
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * 5));
  /** One Claim per run. */
  private readonly claims = new Int32Array(new SharedArrayBuffer(4 * GuardRunPool.CAPACITY));
  /** Runs a worker thread answered, with a report or a failure (for the test that each run is evaluated once). */
  evaluatedByWorkers = 0;

  /**
   * @param runs the runs to evaluate; with `open`, more may be added until `close`
   * @param workers worker threads at most
   * @param options.open whether `add` may give more runs (otherwise the pool is closed at once)
   * @param options.idleMs how long a worker waits for a new run of an open pool before it stops
   */
  constructor(
    runs: readonly GuardRun[],
    private readonly workers: number,
    options: { open?: boolean; idleMs?: number } = {},
  ) {
    this.idleMs = options.idleMs ?? 60_000;
    this.add(runs);
    if (!options.open) this.close();
  }

  /** Runs the worker threads have finished, whether or not anyone took their reports yet. */
  get finishedByWorkers(): number {
    return Atomics.load(this.control, Slot.Finished);
  }

  /** Whether `close` was called. */
  get closed(): boolean {
    return Atomics.load(this.control, Slot.Closed) === 1;
  }

  /** Gives the workers more runs (from the next stage synthesized). Runs beyond CAPACITY are not pooled. */
  add(runs: readonly GuardRun[]): void {
    if (this.closed) throw new Error('GuardRunPool: runs added after close()');
    const batch = runs.slice(0, GuardRunPool.CAPACITY - this.runs.length).filter((run) => !this.index.has(runKey(run)));
    if (batch.length === 0) return;
    for (const run of batch) this.index.set(runKey(run), this.runs.push(run) - 1);
    // Posted before they are published, so a worker that takes one has already been sent it.
    for (const port of this.ports) port.postMessage(batch);
    while (Atomics.load(this.control, Slot.Live) < Math.min(this.workers, this.runs.length)) this.startWorker();
    Atomics.store(this.control, Slot.Published, this.runs.length);
    Atomics.notify(this.control, Slot.Published);
  }

  /** No more runs will come: workers stop once the published runs are taken. */
  close(): void {
    Atomics.store(this.control, Slot.Closed, 1);
    Atomics.notify(this.control, Slot.Published);
  }

  private startWorker(): void {
    const { port1, port2 } = new MessageChannel();
    // The port must not keep the process alive once its runs are taken (a stolen run leaves its worker idle).
    port1.unref();
    this.ports.push(port1);
    Atomics.add(this.control, Slot.Live, 1);
    new Worker(GUARD_WORKER_SOURCE, {
      eval: true,
      workerData: {
        plugin: this.plugin,
        runs: this.runs,
        port: port2,
        idleMs: this.idleMs,
        control: this.control.buffer,
        claims: this.claims.buffer,
      },
      transferList: [port2],
    })
      // A worker that fails outside a run has taken nothing, or stalls the run it took: the main thread
      // evaluates those (see take). Its error must not end the synth.
      .on('error', () => undefined)
      .unref();
  }

  /**
   * The report of this run: from a worker, or evaluated here with `evaluate` when no worker has started
   * it. Undefined when the pool does not have the run, or its worker failed or stalled.
   */
  take(run: GuardRun, evaluate: (run: GuardRun) => GuardReport): GuardReport | undefined {
    const i = this.index.get(runKey(run));
    if (i === undefined) return undefined;
    let progress = Date.now();
    for (;;) {
      const seen = Atomics.load(this.control, Slot.Finished);
      this.drain();
      if (this.reports.has(i)) return this.reports.get(i);
      const claim = Atomics.compareExchange(this.claims, i, Claim.Free, Claim.Main);
      if (claim === Claim.Free) return evaluate(this.runs[i]!);
      // Taken before, and evaluated by the thread that took it: nothing to wait for.
      if (claim === Claim.Main) return undefined;
      // A worker has this run: evaluate one nobody has started meanwhile, for a later stage. A failure
      // there is left to that stage, which evaluates the run again and reports the error itself.
      const next = this.claimNext();
      if (next !== undefined) {
        let report: GuardReport | undefined;
        try {
          report = evaluate(this.runs[next]!);
        } catch {
          report = undefined;
        }
        this.reports.set(next, report);
        progress = Date.now();
        continue;
      }
      // Every worker has stopped: a run one took and did not answer for was lost with it (an error outside
      // the run), so there is nothing to wait for.
      if (Atomics.load(this.control, Slot.Live) === 0) {
        this.drain();
        return this.reports.get(i);
      }
      if (Atomics.wait(this.control, Slot.Finished, seen, 50) !== 'timed-out') progress = Date.now();
      else if (Date.now() - progress > GuardRunPool.STALL_MS) return undefined;
    }
  }

  /** Claims the first run no worker has taken yet, for the main thread. */
  private claimNext(): number | undefined {
    for (let j = Atomics.load(this.control, Slot.Next); j < this.runs.length; j++) {
      if (Atomics.compareExchange(this.claims, j, Claim.Free, Claim.Main) === Claim.Free) return j;
    }
    return undefined;
  }

  private drain(): void {
    for (const port of this.ports) {
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const { i, report } = m.message as { i: number; report?: GuardReport };
        this.reports.set(i, report && restoreTemplatePaths(this.runs[i]!, report));
        this.evaluatedByWorkers++;
      }
    }
  }
}

/**
 * The cfn-guard validator with the same Control Tower rules and the same findings, run only with
 * the rule files that can match each template (see planGuardRuns). The findings of a rule that
 * cannot select any resource of a template are empty, so nothing it checks is lost; the
 * planted-violation test in test/compliance proves the rules still reach the stage. A run whose
 * plugin version, rule files and templates are byte for byte those of an earlier run takes that run's report
 * from the cache (see GuardReportCache); acknowledgements apply afterwards, as for a fresh report.
 */
export class TypeScopedCfnGuardValidator extends CfnGuardValidator {
  private static index?: { file: string; types: string[] }[];
  /** Validators by app, so the first one validated can start the runs of all of them. */
  private static readonly byApp = new WeakMap<IConstruct, Set<TypeScopedCfnGuardValidator>>();
  private static readonly pools = new WeakMap<IConstruct, GuardRunPool>();
  /** The stages whose runs their app's pool was given (a stage belongs to one app, so to one pool). */
  private static readonly pooled = new WeakSet<Stage>();

  /** @param stage the stage this validator is added to, whose runs it may start early @default none (no early start) */
  constructor(readonly stage?: Stage) {
    super();
    if (stage) {
      const root = stage.node.root;
      const all = TypeScopedCfnGuardValidator.byApp.get(root) ?? new Set();
      TypeScopedCfnGuardValidator.byApp.set(root, all.add(this));
    }
  }

  override validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const index = (TypeScopedCfnGuardValidator.index ??= controlTowerRuleIndex());
    const root = context.appConstruct.node.root;
    const pool =
      this.stage && guardWorkers() > 0 ? this.poolWithEveryStage() : TypeScopedCfnGuardValidator.pools.get(root);
    if (pool) runBackgroundTasks(root);
    const cache = GuardReportCache.fromEnvironment();
    const reports = planFor(context.templatePaths, index).map((run) => {
      const key = cache?.key(run.rules, run.templatePaths);
      const cached = key === undefined ? undefined : cache?.get(key, run.templatePaths);
      if (cached) return cached;
      const evaluate = (r: GuardRun) => evaluateRun(r.dataPaths ? r : projectRun(r, index), context.appConstruct);
      const report = pool?.take(run, evaluate) ?? evaluate(run);
      if (key !== undefined) cache?.set(key, run.templatePaths, report);
      return report;
    });
    return {
      success: reports.every((r) => r.success),
      violations: reports.flatMap((r) => r.violations),
    };
  }

  /**
   * Starts this stage's runs in the app's worker pool now, before validation. Only for a stage whose
   * templates are written and final: CDK Pipelines synthesizes a stage as it is added, and a stage is
   * synthesized once. Does nothing when no worker runs (`CFN_GUARD_WORKERS=0`) or the pool is closed.
   */
  startRuns(): void {
    if (!this.stage || guardWorkers() === 0) return;
    const pool = this.pool();
    if (!pool.closed) this.addStage(pool, this.stage);
  }

  /**
   * The app's pool with the runs of every stage of this app with a validator, this stage's first (its
   * runs are wanted now), closed: validation comes after every stage is built, so no runs will follow.
   */
  private poolWithEveryStage(): GuardRunPool {
    const pool = this.pool();
    if (pool.closed) return pool;
    const root = this.stage!.node.root;
    const validators = [this, ...(TypeScopedCfnGuardValidator.byApp.get(root) ?? [])];
    for (const stage of new Set(validators.flatMap((v) => (v.stage ? [v.stage] : [])))) this.addStage(pool, stage);
    pool.close();
    return pool;
  }

  private pool(): GuardRunPool {
    const root = this.stage!.node.root;
    let pool = TypeScopedCfnGuardValidator.pools.get(root);
    if (!pool) {
      pool = new GuardRunPool([], guardWorkers(), { open: true });
      TypeScopedCfnGuardValidator.pools.set(root, pool);
    }
    return pool;
  }

  /** Gives the pool a stage's runs once; runs the cache already holds are not given to the workers. */
  private addStage(pool: GuardRunPool, stage: Stage): void {
    if (TypeScopedCfnGuardValidator.pooled.has(stage)) return;
    TypeScopedCfnGuardValidator.pooled.add(stage);
    const index = (TypeScopedCfnGuardValidator.index ??= controlTowerRuleIndex());
    const cache = GuardReportCache.fromEnvironment();
    pool.add(
      planFor(stageTemplatePaths(stage), index)
        .filter((run) => !cache?.get(cache.key(run.rules, run.templatePaths), run.templatePaths))
        .map((run) => projectRun(run, index)),
    );
  }
}

const backgroundTasks = new WeakMap<IConstruct, (() => void)[]>();

/**
 * Work for the main thread while cfn-guard's worker threads run: called once, when the first stage's
 * cfn-guard validation has handed the runs to the workers and before it waits for them. aws-cdk-lib calls
 * the App-level plugins after every stage's, so without this the template validation would run alone on
 * one core at the end (see CachedTemplateValidation.prevalidate). Not called when no worker runs
 * (`CFN_GUARD_WORKERS=0`, or no cfn-guard): the work is then done where it always is.
 */
export function whileGuardRuns(app: IConstruct, task: () => void): void {
  const root = app.node.root;
  backgroundTasks.set(root, [...(backgroundTasks.get(root) ?? []), task]);
}

function runBackgroundTasks(root: IConstruct): void {
  const tasks = backgroundTasks.get(root) ?? [];
  backgroundTasks.delete(root);
  // A task only moves work earlier; whatever it fails to do is done again at its usual place, which reports it.
  for (const task of tasks) {
    try {
      task();
    } catch {
      /* done again later */
    }
  }
}

/**
 * How many worker threads evaluate cfn-guard runs next to the main thread: `CFN_GUARD_WORKERS` (0 keeps
 * every run in the main thread), by default one fewer than the cores this process may use, at most 4.
 * On the 2-core build machine that is one worker, which took the cold synth from about 40 s to about
 * 27 s (docs/testing.md); a second worker only competes with the main thread.
 */
export function guardWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.CFN_GUARD_WORKERS;
  if (value === undefined || value === '') return Math.min(4, Math.max(0, os.availableParallelism() - 1));
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(
      `CFN_GUARD_WORKERS is "${value}": expected a whole number of worker threads for cfn-guard (0 runs it in the main thread), or leave it unset for one fewer than the cores.`,
    );
  }
  return n;
}

/** The written templates of a stage's stacks (nested stages included), as the validation context lists them. */
function stageTemplatePaths(stage: Stage): string[] {
  return stage.node
    .findAll()
    .filter((c): c is Stack => Stack.isStack(c) && !c.nested)
    .map((s) => path.join(Stage.of(s)!.outdir, s.templateFile))
    .filter((p) => fs.existsSync(p));
}
