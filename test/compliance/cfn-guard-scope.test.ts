import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { controlTowerRuleIndex, planGuardRuns, TypeScopedCfnGuardValidator } from '../../lib/compliance/cfn-guard';

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
    new logs.LogGroup(a, 'Forever', { retention: logs.RetentionDays.INFINITE });
    const b = new Stack(app, 'B');
    const vpc = new ec2.Vpc(b, 'Vpc', { maxAzs: 1, natGateways: 0 });
    const sg = new ec2.SecurityGroup(b, 'Open', { vpc });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    const assembly = app.synth();
    const context = {
      appConstruct: app,
      templatePaths: assembly.stacks.map((s) => path.join(assembly.directory, s.templateFile)),
    };
    const key = (v: { ruleName: string; violatingResources: { resourceLogicalId: string; templatePath: string }[] }) =>
      v.violatingResources.map((r) => `${v.ruleName} ${path.basename(r.templatePath)} ${r.resourceLogicalId}`);
    const full = new CfnGuardValidator().validate(context);
    const scoped = new TypeScopedCfnGuardValidator().validate(context);
    const fullFindings = full.violations.flatMap(key).sort();
    expect(fullFindings.length).toBeGreaterThan(5);
    expect(scoped.violations.flatMap(key).sort()).toEqual(fullFindings);
    expect(scoped.success).toBe(full.success);

    // By default the runs stay in this thread; with CFN_GUARD_WORKERS=<n> and its stage, the validator
    // evaluates them in worker threads, none in this thread.
    const inThisThread = jest.spyOn(CfnGuardValidator.prototype, 'validate');
    try {
      const unpooled = new TypeScopedCfnGuardValidator(app).validate(context);
      expect(inThisThread).toHaveBeenCalled();
      expect(unpooled.violations.flatMap(key).sort()).toEqual(fullFindings);
      inThisThread.mockClear();

      process.env.CFN_GUARD_WORKERS = '2';
      const pooled = new TypeScopedCfnGuardValidator(app).validate(context);
      expect(inThisThread).not.toHaveBeenCalled();
      expect(pooled.violations.flatMap(key).sort()).toEqual(fullFindings);
      expect(pooled.success).toBe(full.success);
    } finally {
      delete process.env.CFN_GUARD_WORKERS;
      inThisThread.mockRestore();
    }
  });
});
