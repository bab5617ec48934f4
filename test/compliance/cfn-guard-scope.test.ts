import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  controlTowerRuleIndex,
  GuardRun,
  GuardRunPool,
  guardWorkers,
  planGuardRuns,
  projectRun,
  restoreTemplatePaths,
  reviewedRuleFile,
  TypeScopedCfnGuardValidator,
  whileGuardRuns,
} from '../../lib/compliance/cfn-guard';
import { sleep } from '../support/shared-synth';

describe('controlTowerRuleIndex', () => {
  const index = controlTowerRuleIndex();

  it('indexes every shipped rule file with the resource types it selects', () => {
    expect(index.length).toBeGreaterThan(200);
    const versioning = index.find((r) => r.file.endsWith(`${path.sep}ct-s3-pr-1.guard`));
    expect(versioning?.types).toContain('AWS::S3::Bucket');
    // Scoping relies on every rule naming its types; a rule without one would run on every template.
    expect(index.filter((r) => r.types.length === 0)).toEqual([]);
  });
});

describe('planGuardRuns', () => {
  const index = [
    { file: 's3.guard', types: ['AWS::S3::Bucket'] },
    { file: 'sqs.guard', types: ['AWS::SQS::Queue'] },
    { file: 'any.guard', types: [] },
  ];

  it('gives each template the rules naming one of its types (and untyped rules), sharing runs', () => {
    const runs = planGuardRuns(
      [
        { path: 'a', types: new Set(['AWS::S3::Bucket']) },
        { path: 'b', types: new Set(['AWS::SQS::Queue', 'AWS::S3::Bucket']) },
        { path: 'c', types: new Set(['AWS::S3::Bucket', 'AWS::IAM::Role']) },
        { path: 'd', types: new Set(['AWS::IAM::Role']) },
      ],
      index,
    );
    expect(runs).toEqual([
      { rules: ['s3.guard', 'any.guard'], templatePaths: ['a', 'c'] },
      { rules: ['s3.guard', 'sqs.guard', 'any.guard'], templatePaths: ['b'] },
      { rules: ['any.guard'], templatePaths: ['d'] },
    ]);
  });
});

describe('projectRun', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-projection-'));
  const template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Queue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
          VisibilityTimeout: 300,
        },
        Metadata: { 'aws:cdk:path': 'S/Queue/Resource' },
      },
      Dlq: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [] } }, DependsOn: ['Dlq'] },
    },
    Outputs: { QueueUrl: { Value: { Ref: 'Queue' } } },
  };
  const templatePath = path.join(dir, 'S.template.json');
  fs.writeFileSync(templatePath, JSON.stringify(template));
  // Rule files in the Control Tower shape: one reads the queue's properties by key, one enumerates them.
  const ruleFile = (name: string, check: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(
      file,
      `let queues = Resources.*[ Type == "AWS::SQS::Queue" ]
rule queue_check when %queues not empty { check(%queues.Properties) }
rule check(queue) { %queue { ${check} } }`,
    );
    return file;
  };
  const byKey = ruleFile('sqs.guard', 'RedrivePolicy exists');
  // Counts the map's keys (a built-in function over it): any key may matter.
  const counting = ruleFile('sqs-all.guard', 'count(this) > 1');
  // Reads every resource, whatever its type: nothing may be left out.
  const everything = path.join(dir, 'any-resource.guard');
  fs.writeFileSync(everything, 'let all = Resources.*\nrule r when %all not empty { %all.Properties exists }');
  const index = [
    { file: byKey, types: ['AWS::SQS::Queue'] },
    { file: counting, types: ['AWS::SQS::Queue'] },
    { file: everything, types: ['AWS::SQS::Queue'] },
    { file: 'any.guard', types: [] },
  ];
  // These rule files are the test's own, not the reviewed Control Tower release's: let them be followed.
  const anyFile = () => true;
  const dataOf = (run: GuardRun) => JSON.parse(fs.readFileSync(run.dataPaths![0]!, 'utf8')) as typeof template;

  it('leaves out the properties no rule of the run reads, keeping a map that would be left empty', () => {
    const run = projectRun({ rules: [byKey], templatePaths: [templatePath] }, index, anyFile);
    expect(run.templatePaths).toEqual([templatePath]);
    expect(run.dataPaths).toHaveLength(1);
    expect(path.dirname(run.dataPaths![0]!)).not.toBe(dir);
    const { Role, Queue, Dlq } = template.Resources;
    const roleWithoutProperties: Partial<typeof Role> = { ...Role };
    delete roleWithoutProperties.Properties;
    expect(dataOf(run)).toEqual({
      ...template,
      Resources: {
        // Only RedrivePolicy is named by the rule; the rest of the resource is kept.
        Queue: { ...Queue, Properties: { RedrivePolicy: Queue.Properties.RedrivePolicy } },
        // No key it has is named: left whole, since an empty map answers `empty` differently.
        Dlq,
        // No rule of the run selects roles.
        Role: roleWithoutProperties,
      },
    });
  });

  it('keeps every property of a type that a rule of the run reads other than by key', () => {
    const run = projectRun({ rules: [byKey, counting], templatePaths: [templatePath] }, index, anyFile);
    expect(dataOf(run).Resources.Queue).toEqual(template.Resources.Queue);
    expect(dataOf(run).Resources.Role).not.toHaveProperty('Properties');
  });

  it('keeps the templates whole when a rule reads resources in a way not followed', () => {
    expect(projectRun({ rules: [byKey, everything], templatePaths: [templatePath] }, index, anyFile).dataPaths).toBe(
      undefined,
    );
  });

  it("keeps a key that is not a plain word, and a logical id that is one of JavaScript's", () => {
    const odd = path.join(dir, 'odd.template.json');
    const queue = { Type: 'AWS::SQS::Queue', Properties: { "Zz'z": 1, VisibilityTimeout: 3, RedrivePolicy: {} } };
    fs.writeFileSync(odd, `{"Resources":{"__proto__":${JSON.stringify(queue)}}}`);
    const run = projectRun({ rules: [byKey], templatePaths: [odd] }, index, anyFile);
    expect(fs.readFileSync(run.dataPaths![0]!, 'utf8')).toBe(
      `{"Resources":{"__proto__":{"Type":"AWS::SQS::Queue","Properties":{"Zz'z":1,"RedrivePolicy":{}}}}}`,
    );
  });

  it.each([
    [
      'a number that does not read back as written',
      '{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{"DelaySeconds":1.0}}}}',
    ],
    ['a Type that is a list', '{"Resources":{"Q":{"Type":["AWS::SQS::Queue"],"Properties":{"DelaySeconds":1}}}}'],
    ['a resource that is no object', '{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{"A":1}},"N":null}}'],
    ['Resources that is no map', '{"Resources":"none"}'],
    // The plugin's parser of cfn-guard's output acts on such keys inside reported values too.
    [
      'a key the plugin parses cfn-guard output by',
      '{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{"RedrivePolicy":{},"Definition":{"States":{"Unresolved":{}}}}}}}',
    ],
  ])('hands cfn-guard the template as it is when it has %s', (_, text) => {
    const file = path.join(dir, 'unusual.template.json');
    fs.writeFileSync(file, text);
    const run = projectRun({ rules: [byKey], templatePaths: [file] }, index, anyFile);
    expect(fs.readFileSync(run.dataPaths![0]!, 'utf8')).toBe(text);
  });

  it('cuts down only for the reviewed release of the Control Tower rule files', () => {
    expect(projectRun({ rules: [byKey], templatePaths: [templatePath] }, index).dataPaths).toBe(undefined);
    const shipped = controlTowerRuleIndex().find((r) => r.types.includes('AWS::SQS::Queue'))!;
    expect(reviewedRuleFile(shipped.file)).toBe(true);
    expect(projectRun({ rules: [shipped.file], templatePaths: [templatePath] }, [shipped]).dataPaths).toHaveLength(1);
  });

  it('keeps the templates whole when a rule names no type or is not in the index', () => {
    expect(projectRun({ rules: [byKey, 'any.guard'], templatePaths: [templatePath] }, index, anyFile).dataPaths).toBe(
      undefined,
    );
    expect(projectRun({ rules: ['other.guard'], templatePaths: [templatePath] }, index, anyFile).dataPaths).toBe(
      undefined,
    );
  });

  it('names the template, not the cut-down copy, in every finding', () => {
    const run = projectRun({ rules: [byKey], templatePaths: [templatePath] }, index, anyFile);
    const finding = (templatePath: string) => ({
      ruleName: 'sqs_queue_encrypted_check',
      description: 'encrypt the queue',
      violatingResources: [{ resourceLogicalId: 'Dlq', templatePath, locations: ['/Resources/Dlq/Properties'] }],
    });
    expect(restoreTemplatePaths(run, { success: false, violations: [finding(run.dataPaths![0]!)] })).toEqual({
      success: false,
      violations: [finding(templatePath)],
    });
  });
});

describe('TypeScopedCfnGuardValidator', () => {
  // These tests count cfn-guard runs; a cached report would answer instead (test/compliance/guard-cache.test.ts).
  beforeAll(() => (process.env.CFN_GUARD_CACHE = 'off'));
  afterAll(() => delete process.env.CFN_GUARD_CACHE);

  it('finds exactly what the full Control Tower run finds', () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'guard-scope-')) });
    // Violations of several services, spread over two templates.
    const a = new Stack(app, 'A');
    new s3.Bucket(a, 'Unversioned');
    new sqs.Queue(a, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    // A rule that follows a reference (the dead-letter queue by Fn::GetAtt) into a resource of its own type.
    const dlq = new sqs.Queue(a, 'Dlq');
    new sqs.Queue(a, 'WithDlq', { deadLetterQueue: { queue: dlq, maxReceiveCount: 3 } });
    new logs.LogGroup(a, 'Forever', { retention: logs.RetentionDays.INFINITE });
    // Resources whose properties the rules read only in part (projectRun keeps just those keys): a state
    // machine without logging, one logging to a log group by reference, a function outside a VPC.
    new sfn.StateMachine(a, 'Unlogged', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(a, 'Wait')) });
    new sfn.StateMachine(a, 'Logged', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(a, 'Pass')),
      logs: { destination: new logs.LogGroup(a, 'MachineLogs'), level: sfn.LogLevel.ALL },
    });
    new lambda.Function(a, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    const b = new Stack(app, 'B');
    const vpc = new ec2.Vpc(b, 'Vpc', { maxAzs: 1, natGateways: 0 });
    const sg = new ec2.SecurityGroup(b, 'Open', { vpc });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    const assembly = app.synth();
    const context = {
      appConstruct: app,
      templatePaths: assembly.stacks.map((s) => path.join(assembly.directory, s.templateFile)),
    };
    const key = (v: {
      ruleName: string;
      violatingResources: { resourceLogicalId: string; templatePath: string; locations: string[] }[];
    }) =>
      v.violatingResources.map(
        (r) => `${v.ruleName} ${r.templatePath} ${r.resourceLogicalId} ${[...r.locations].sort().join(',')}`,
      );
    const full = new CfnGuardValidator().validate(context);
    const scoped = new TypeScopedCfnGuardValidator().validate(context);
    const fullFindings = full.violations.flatMap(key).sort();
    expect(fullFindings.length).toBeGreaterThan(5);
    // The logging rule follows the log group reference; only the machine without logging fails it.
    const logging = fullFindings.filter((f) => f.startsWith('step_functions_state_machine_logging_enabled_check '));
    expect(logging).toEqual([expect.stringMatching(/ Unlogged[0-9A-F]{8} /)]);
    expect(scoped.violations.flatMap(key).sort()).toEqual(fullFindings);
    expect(scoped.success).toBe(full.success);

    // With CFN_GUARD_WORKERS=0 every run stays in this thread; with workers (the default when there is
    // more than one core) a stage's validator starts a pool, and the findings are the same.
    // Work registered for the time the workers run is done once, when a pool starts, and never without one.
    const background = jest.fn();
    whileGuardRuns(app, background);
    const inThisThread = jest.spyOn(CfnGuardValidator.prototype, 'validate');
    try {
      process.env.CFN_GUARD_WORKERS = '0';
      const unpooled = new TypeScopedCfnGuardValidator(app).validate(context);
      expect(inThisThread).toHaveBeenCalled();
      expect(unpooled.violations.flatMap(key).sort()).toEqual(fullFindings);
      expect(background).not.toHaveBeenCalled();

      process.env.CFN_GUARD_WORKERS = '2';
      const pooled = new TypeScopedCfnGuardValidator(app).validate(context);
      expect(pooled.violations.flatMap(key).sort()).toEqual(fullFindings);
      expect(pooled.success).toBe(full.success);
      expect(background).toHaveBeenCalledTimes(1);
      new TypeScopedCfnGuardValidator(app).validate(context);
      expect(background).toHaveBeenCalledTimes(1);
    } finally {
      delete process.env.CFN_GUARD_WORKERS;
      inThisThread.mockRestore();
    }
  });

  it('evaluates each run of a pool once, in a worker or in the waiting main thread', () => {
    const runs = sixRuns('guard-pool-');

    const { inMain, evaluate } = evaluatedHere();
    const pool = new GuardRunPool(runs, 1);
    const reports = runs.map((run) => pool.take(run, evaluate));

    expect(reports.every((r) => r !== undefined)).toBe(true);
    // Nothing evaluated twice, nothing lost: every run came from exactly one side.
    expect(new Set(inMain).size).toBe(inMain.length);
    expect(inMain.length + pool.evaluatedByWorkers).toBe(runs.length);
    // Taking a run again never waits and never evaluates it twice: the pool answers from what it holds,
    // or leaves a run this thread evaluated to the caller.
    const evaluatedBefore = inMain.length;
    runs.forEach((run) => pool.take(run, evaluate));
    expect(inMain.length).toBe(evaluatedBefore);
    const direct = runs.map((run) => evaluate(run));
    expect(reports.map((r) => r!.violations.length)).toEqual(direct.map((r) => r.violations.length));
    expect(reports.some((r) => r!.violations.length > 0)).toBe(true);
  });

  it('gives runs added later to the worker already running', () => {
    const runs = sixRuns('guard-live-pool-');
    const started = jest.spyOn(GuardRunPool.prototype as unknown as { startWorker(): void }, 'startWorker');
    try {
      const pool = new GuardRunPool([], 1, { open: true });
      pool.add(runs.slice(0, 1));
      expect(waitUntil(() => pool.finishedByWorkers === 1)).toBe(true);
      // The worker is waiting for more: these reach it as a message, no second worker starts.
      pool.add(runs.slice(1, 3));
      pool.add(runs.slice(3));
      expect(waitUntil(() => pool.finishedByWorkers === runs.length)).toBe(true);
      pool.close();
      expect(started).toHaveBeenCalledTimes(1);
      const { inMain, evaluate } = evaluatedHere();
      expect(runs.map((run) => pool.take(run, evaluate)).every((r) => r !== undefined)).toBe(true);
      expect(inMain).toEqual([]);
    } finally {
      started.mockRestore();
    }
  });

  it('evaluates runs added to an open pool in the background as they come, and each once', () => {
    const runs = sixRuns('guard-open-pool-');
    const { inMain, evaluate } = evaluatedHere();
    // A worker that waits 200 ms for a new run and then stops, so the second batch needs a new one.
    const pool = new GuardRunPool([], 1, { open: true, idleMs: 200 });
    pool.add(runs.slice(0, 2));
    // Nobody asks for these: the worker evaluates them on its own, as it does while the next stage is built.
    expect(waitUntil(() => pool.finishedByWorkers === 2)).toBe(true);
    sleep(800);
    pool.add(runs.slice(2, 4));
    expect(waitUntil(() => pool.finishedByWorkers === 4)).toBe(true);
    pool.add([...runs.slice(4), runs[0]!]); // a run given twice is pooled once
    pool.close();
    expect(pool.closed).toBe(true);
    expect(() => pool.add(runs)).toThrow(/runs added after close/);

    const reports = runs.map((run) => pool.take(run, evaluate));
    expect(reports.every((r) => r !== undefined)).toBe(true);
    expect(new Set(inMain).size).toBe(inMain.length);
    expect(inMain.length + pool.evaluatedByWorkers).toBe(runs.length);
    expect(pool.evaluatedByWorkers).toBeGreaterThanOrEqual(4);
    const direct = runs.map((run) => evaluate(run));
    expect(reports.map((r) => r!.violations.length)).toEqual(direct.map((r) => r.violations.length));
  });
});

describe('guardWorkers', () => {
  it('defaults to one fewer than the cores, at most 4, and takes a whole number', () => {
    expect(guardWorkers({})).toBe(Math.min(4, Math.max(0, os.availableParallelism() - 1)));
    expect(guardWorkers({ CFN_GUARD_WORKERS: '0' })).toBe(0);
    expect(guardWorkers({ CFN_GUARD_WORKERS: '3' })).toBe(3);
  });

  it('refuses a value that is not a whole number and says what to give', () => {
    expect(() => guardWorkers({ CFN_GUARD_WORKERS: 'two' })).toThrow(
      /CFN_GUARD_WORKERS is "two": expected a whole number/,
    );
    expect(() => guardWorkers({ CFN_GUARD_WORKERS: '-1' })).toThrow(/0 runs it in the main thread/);
  });
});

/** Six templates with different resource types, so six runs with different rule sets. */
function sixRuns(prefix: string): GuardRun[] {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), prefix)) });
  new s3.Bucket(new Stack(app, 'Bucket'), 'B');
  new sqs.Queue(new Stack(app, 'Queue'), 'Q');
  new logs.LogGroup(new Stack(app, 'Logs'), 'L');
  new ec2.Vpc(new Stack(app, 'Network'), 'V', { maxAzs: 1, natGateways: 0 });
  new sqs.Queue(new s3.Bucket(new Stack(app, 'Both'), 'B'), 'Q');
  new logs.LogGroup(new sqs.Queue(new Stack(app, 'Mixed'), 'Q'), 'L');
  const assembly = app.synth();
  const templatePaths = assembly.stacks.map((s) => path.join(assembly.directory, s.templateFile));
  const runs = planGuardRuns(
    templatePaths.map((p) => ({
      path: p,
      types: new Set(Object.values(JSON.parse(fs.readFileSync(p, 'utf8')).Resources as object).map((r) => r.Type)),
    })),
    controlTowerRuleIndex(),
  );
  expect(runs.length).toBe(6);
  return runs;
}

/** An evaluate function for GuardRunPool.take that records the runs it evaluated in this thread. */
function evaluatedHere() {
  const inMain: GuardRun[] = [];
  const evaluate = (run: GuardRun) => {
    inMain.push(run);
    return new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: run.rules }).validate({
      templatePaths: run.templatePaths,
    } as never);
  };
  return { inMain, evaluate };
}

/** Whether the condition became true within a minute. */
function waitUntil(condition: () => boolean): boolean {
  for (const end = Date.now() + 60_000; Date.now() < end; sleep(20)) if (condition()) return true;
  return condition();
}
