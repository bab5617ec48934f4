import { parse as parseYaml } from 'yaml';
import { PIPELINE_CONNECTION, synthPipelineApp } from '../support/pipeline-app-fixture';
import { STACK_IDS } from '../support/stage-fixture';

const STACKS = STACK_IDS;
const CONNECTION = PIPELINE_CONNECTION;

// The default app, as `npx cdk synth` builds it (cfn-guard off here only to keep the test fast), shared
// with the other suites that read it.
const app = synthPipelineApp();
const template = app.pipeline;
const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as { Properties: any }[];
const stages = pipeline!.Properties.Stages as {
  Name: string;
  Actions: { Name: string; ActionTypeId: { Provider: string }; RunOrder: number; Configuration?: any }[];
}[];
const stage = (name: string) => stages.find((s) => s.Name === name)!;

describe('PipelineStack', () => {
  it('is a V2 pipeline that starts from a CodeStar connection on a push to main', () => {
    expect(pipeline!.Properties.PipelineType).toBe('V2');
    const [source] = stage('Source').Actions;
    expect(source!.ActionTypeId.Provider).toBe('CodeStarSourceConnection');
    expect(source!.Configuration).toMatchObject({
      BranchName: 'main',
      FullRepositoryId: 'acme/migration-platform',
      ConnectionArn: CONNECTION,
      DetectChanges: true,
    });
  });

  it('mutates itself before deploying, then deploys dev, staging and prod in order', () => {
    expect(stages.map((s) => s.Name)).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'Dev',
      'Staging',
      'Prod',
    ]);
    expect(stage('UpdatePipeline').Actions.map((a) => a.Name)).toEqual(['SelfMutate']);
  });

  // Each wave deploys the MigrationStage (`Dev.<stack>`) and the PaymentCutoverStage (`DevPayment.<stack>`).
  const deployedStacks = (env: string, stageId: string) =>
    stage(env)
      .Actions.filter((a) => a.Name.startsWith(`${stageId}.`) && a.Name.endsWith('.Deploy'))
      .map((a) => a.Name.slice(stageId.length + 1).replace('.Deploy', ''));

  it('deploys every MigrationStage stack in every environment', () => {
    for (const env of ['Dev', 'Staging', 'Prod']) {
      expect(deployedStacks(env, env).sort()).toEqual([...STACKS].sort());
    }
  });

  it('deploys every PaymentCutoverStage stack in the same wave, in us-east-1 and the replica in us-west-2', () => {
    for (const env of ['Dev', 'Staging', 'Prod']) {
      expect(deployedStacks(env, `${env}Payment`).sort()).toEqual(
        ['Cutover', 'Dms', 'Monitoring', 'Network', 'Operations', 'Replica', 'Source', 'Target'].sort(),
      );
      const region = (stack: string) =>
        (stage(env).Actions.find((a) => a.Name === `${env}Payment.${stack}.Deploy`) as { Region?: string }).Region;
      expect(region('Source')).toBe('us-east-1');
      // The pipeline's own region needs no Region on the action.
      expect(region('Replica')).toBeUndefined();
      expect(app.region).toBe('us-west-2');
    }
  });

  it('runs the payment smoke test after the payment stage with the outputs its script reads', () => {
    for (const [env, name] of [
      ['Dev', 'dev'],
      ['Staging', 'staging'],
      ['Prod', 'prod'],
    ] as const) {
      const actions = stage(env).Actions;
      const smoke = actions.find((a) => a.Name === `${env}Payment.PaymentSmokeTest-${name}`)!;
      expect(smoke).toBeDefined();
      const operations = actions.find((a) => a.Name === `${env}Payment.Operations.Deploy`)!;
      expect(smoke.RunOrder).toBeGreaterThan(operations.RunOrder);
      const vars = JSON.parse(smoke.Configuration.EnvironmentVariables) as { name: string; value: string }[];
      const byName = Object.fromEntries(vars.map((v) => [v.name, v.value]));
      expect(Object.keys(byName).sort()).toEqual(
        [
          'REPLICA_BUCKET',
          'REPLICA_REGION',
          'REPLICATION_TASK_ARN',
          'REPLICATION_TIME_MINUTES',
          'SMOKE_ROLE_ARN',
          'SOURCE_HEALTH_URL',
          'SOURCE_LOG_BUCKET',
          'TARGET_HEALTH_URL',
        ].sort(),
      );
      for (const value of Object.values(byName)) expect(value).toMatch(/^#\{.*\.Smoke\w+\}$/);
    }
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project')) as { Properties: any }[];
    const specs = projects.map((p) => String(p.Properties.Source.BuildSpec));
    expect(specs.some((b) => b.includes('npx tsx scripts/payment-smoke/index.ts'))).toBe(true);
  });

  it('asks for approval before staging and prod, never before dev', () => {
    const manual = (env: string) => stage(env).Actions.filter((a) => a.ActionTypeId.Provider === 'Manual');
    expect(manual('Dev')).toHaveLength(0);
    for (const env of ['Staging', 'Prod']) {
      const [approval] = manual(env);
      expect(approval).toBeDefined();
      const firstDeploy = Math.min(
        ...stage(env)
          .Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation')
          .map((a) => a.RunOrder),
      );
      expect(approval!.RunOrder).toBeLessThan(firstDeploy);
    }
  });

  it('runs the smoke test after each environment with its bucket and state machine', () => {
    for (const [env, name] of [
      ['Dev', 'dev'],
      ['Staging', 'staging'],
      ['Prod', 'prod'],
    ] as const) {
      const actions = stage(env).Actions;
      const smoke = actions.find((a) => a.Name === `${env}.SmokeTest-${name}`)!;
      expect(smoke).toBeDefined();
      const migration = actions.filter((a) => a.Name.startsWith(`${env}.`));
      expect(smoke.RunOrder).toBe(Math.max(...migration.map((a) => a.RunOrder)));
      const vars = JSON.parse(smoke.Configuration.EnvironmentVariables) as { name: string; value: string }[];
      const byName = Object.fromEntries(vars.map((v) => [v.name, v.value]));
      expect(byName.DATA_BUCKET_NAME).toMatch(/^#\{.*\.DataBucketName\}$/);
      expect(byName.STATE_MACHINE_ARN).toMatch(/^#\{.*\.StateMachineArn\}$/);
      expect(byName.SMOKE_ROLE_ARN).toMatch(/^#\{.*\.SmokeTestRoleArn\}$/);
    }
  });

  it('lets each smoke test assume only the smoke role of its own target account', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p: any) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const assumes = statements.filter((s) => s.Action === 'sts:AssumeRole').map((s) => JSON.stringify(s.Resource));
    for (const [account, env] of [
      ['222222222222', 'dev'],
      ['333333333333', 'staging'],
      ['444444444444', 'prod'],
    ]) {
      expect(assumes.some((r) => r.includes(`:iam::${account}:role/migration-smoke-${env}`))).toBe(true);
      expect(assumes.some((r) => r.includes(`:iam::${account}:role/payment-${env}-smoke`))).toBe(true);
    }
  });

  it('publishes the jest report from the synth step', () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project')) as { Properties: any }[];
    const synth = projects.find((p) => String(p.Properties.Source.BuildSpec).includes('npx cdk synth'))!;
    const spec = JSON.parse(synth.Properties.Source.BuildSpec);
    expect(spec.phases.build.commands).toEqual(['npm test', 'npx cdk synth']);
    expect(spec.phases.install.commands).toEqual(['npm ci --no-audit --no-fund']);
    expect(spec.reports.jest).toMatchObject({
      files: ['jest-junit.xml'],
      'base-directory': 'reports',
      'file-format': 'JUNITXML',
    });
  });

  it('keeps the report caches (cfn-guard, template validation) and npm downloads on the build host between synth runs', () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project')) as { Properties: any }[];
    const synth = projects.find((p) => String(p.Properties.Source.BuildSpec).includes('npx cdk synth'))!;
    expect(synth.Properties.Cache).toEqual({ Type: 'LOCAL', Modes: ['LOCAL_CUSTOM_CACHE'] });
    const spec = JSON.parse(synth.Properties.Source.BuildSpec);
    // npm ci deletes node_modules, so the cache must sit outside it, under a path the cache keeps.
    const kept = (spec.cache.paths as string[]).map((p) => p.replace(/\*\*\/\*$/, ''));
    for (const variable of ['CFN_GUARD_CACHE_DIR', 'TEMPLATE_VALIDATION_CACHE_DIR']) {
      const dir: string = spec.env.variables[variable];
      expect(dir).toMatch(/^\//);
      expect(dir).not.toContain('node_modules');
      expect(kept.some((p) => dir.startsWith(p))).toBe(true);
    }
    expect(kept).toContain('/root/.npm/');
  });

  it('publishes assets from one project per asset type, not one per asset', () => {
    const assetActions = stage('Assets').Actions;
    expect(assetActions.map((a) => a.Name)).toEqual(['FileAssets']);
  });

  it('notifies on failures and pending approvals through an encrypted topic', () => {
    template.hasResourceProperties('AWS::CodeStarNotifications::NotificationRule', {
      EventTypeIds: [
        'codepipeline-pipeline-pipeline-execution-failed',
        'codepipeline-pipeline-action-execution-failed',
        'codepipeline-pipeline-manual-approval-needed',
      ],
    });
    const [topic] = Object.values(template.findResources('AWS::SNS::Topic')) as { Properties: any }[];
    expect(topic!.Properties.KmsMasterKeyId).toBeDefined();
  });

  it('uses cross-account artifact keys when the environments live in other accounts', () => {
    // One artifact store per region: the pipeline's and the payment stage's (us-east-1).
    const stores = pipeline!.Properties.ArtifactStores as {
      Region: string;
      ArtifactStore: { EncryptionKey?: unknown };
    }[];
    expect(stores.map((s) => s.Region).sort()).toEqual(['us-east-1', 'us-west-2']);
    for (const s of stores) expect(s.ArtifactStore.EncryptionKey).toBeDefined();
    expect(app.account).toBe('111111111111');
  });

  it('gives each stage its own account and region', () => {
    expect(app.stages).toEqual([
      ['Dev', '222222222222', 'us-west-2'],
      ['Staging', '333333333333', 'us-west-2'],
      ['Prod', '444444444444', 'us-west-2'],
    ]);
  });

  it('lets the source action use the connection under both the codestar-connections and codeconnections prefixes', () => {
    const [source] = stage('Source').Actions as unknown as { RoleArn: { 'Fn::GetAtt': [string, string] } }[];
    const roleId = source!.RoleArn['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) =>
        (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
      )
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const granted = (action: string) =>
      statements.some(
        (s) => [s.Action].flat().includes(action) && JSON.stringify(s.Resource) === JSON.stringify(CONNECTION),
      );
    expect(granted('codestar-connections:UseConnection')).toBe(true);
    expect(granted('codeconnections:UseConnection')).toBe(true);
  });

  it('pins the Node.js and Python runtimes in every CodeBuild project', () => {
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project')) as { Properties: any }[];
    expect(projects.length).toBeGreaterThanOrEqual(5);
    for (const p of projects) {
      // Long specs (asset publishing) are written next to the template and referenced by file name.
      const source = String(p.Properties.Source.BuildSpec);
      const text = source.startsWith('buildspec-') ? app.buildSpecs[source]! : source;
      const spec = parseYaml(text);
      expect(spec.phases.install['runtime-versions']).toEqual({ nodejs: 20, python: 3.11 });
    }
  });
});
