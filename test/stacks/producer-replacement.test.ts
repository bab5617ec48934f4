/**
 * Consumers follow a replaced producer (ADR 0009). Cross-stack references are weak: CloudFormation
 * reads `Fn::GetStackOutput` only when the consuming stack updates. So whatever can replace the DMS
 * task (or create the DataSync task on a later activation attempt) must also change the consumers'
 * templates, in the very resources that hold the ARN; and code that runs later reads the parameter.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { MigrationStage } from '../../stages/migration-stage';
import { newApp } from '../support/stage-fixture';

type Templates = Record<'Dms' | 'Orchestration' | 'Lambda' | 'Monitoring', Template>;

function synth(change: (stage: MigrationStage) => void = () => undefined, activationAttempt = '1'): Templates {
  // Templates only: skip bundling and the nag pass (the stage tests cover both).
  const app = newApp({ 'aws:cdk:bundling-stacks': [] });
  const base = loadEnvironmentConfig('dev', () => undefined, {});
  const config = { ...base, dataSync: { ...base.dataSync, activationAttempt: Number(activationAttempt) } };
  const stage = new MigrationStage(app, 'Test', {
    config,
    env: { region: config.region },
    nagChecks: false,
  });
  change(stage);
  return {
    Dms: Template.fromStack(stage.dms),
    Orchestration: Template.fromStack(stage.orchestration),
    Lambda: Template.fromStack(stage.lambda),
    Monitoring: Template.fromStack(stage.monitoring),
  };
}

const json = (t: Template) =>
  t.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
const ofType = (t: Template, type: string) => Object.values(json(t).Resources).filter((r) => r.Type === type);
const rule = (t: Template, description: RegExp) =>
  ofType(t, 'AWS::Events::Rule').find((r) => description.test(String(r.Properties.Description)))!;
const generationIn = (text: unknown): string => /task generation ([0-9a-f]{12})/.exec(String(text))?.[1] ?? 'none';

/** Where each consumer holds the DMS task's generation. */
function dmsGenerations(t: Templates): Record<string, string> {
  const remediation = ofType(t.Lambda, 'AWS::Lambda::Function').find(
    (f) =>
      (f.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.REPLICATION_TASK_GENERATION,
  )!;
  const cdcAlarm = ofType(t.Monitoring, 'AWS::CloudWatch::Alarm').find(
    (a) => a.Properties.MetricName === 'CDCLatencyTarget',
  )!;
  return {
    workflow: generationIn(JSON.stringify(ofType(t.Orchestration, 'AWS::StepFunctions::StateMachine')[0]!.Properties)),
    remediation: String(
      (remediation.Properties.Environment as { Variables: Record<string, string> }).Variables
        .REPLICATION_TASK_GENERATION,
    ),
    failureRule: generationIn(rule(t.Lambda, /^DMS replication task failed/).Properties.Description),
    auditRule: generationIn(rule(t.Monitoring, /^Every DMS task event/).Properties.Description),
    cdcAlarm: generationIn(cdcAlarm.Properties.AlarmDescription),
  };
}

let base: Templates;
beforeAll(() => {
  base = synth();
});

describe('the DMS task', () => {
  test('every consumer that holds the task ARN carries one and the same generation', () => {
    const g = dmsGenerations(base);
    expect(g.workflow).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(Object.values(g))).toEqual(new Set([g.workflow]));
  });

  test('an unchanged producer gives the same generation: a redeploy changes no consumer', () => {
    expect(dmsGenerations(synth())).toEqual(dmsGenerations(base));
  });

  test.each([
    [
      'a replaced source endpoint (new logical id)',
      (s: MigrationStage) => s.dms.sourceEndpoint.overrideLogicalId('SourceEndpointV2'),
    ],
    ['a replaced target endpoint', (s: MigrationStage) => s.dms.targetEndpoint.overrideLogicalId('TargetEndpointV2')],
    [
      'a replaced replication instance (new subnet group)',
      (s: MigrationStage) => (s.dms.replicationInstance.replicationSubnetGroupIdentifier = 'other-group'),
    ],
    [
      'a replaced replication instance (public flag)',
      (s: MigrationStage) => (s.dms.replicationInstance.publiclyAccessible = true),
    ],
  ])('%s changes every consumer', (_name, change) => {
    const before = dmsGenerations(base);
    const after = dmsGenerations(synth(change));
    for (const consumer of Object.keys(before))
      expect([consumer, after[consumer]]).not.toEqual([consumer, before[consumer]]);
    expect(new Set(Object.values(after)).size).toBe(1);
  });

  test('the producer keeps the current ARN in an SSM parameter, and publishes its name', () => {
    base.Dms.hasResourceProperties('AWS::SSM::Parameter', {
      Type: 'String',
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicationTask'), 'TaskArn'] },
    });
    const outputs = (base.Dms.toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    expect(outputs.ReplicationTaskArnParameterName!.Value).toEqual({ Ref: expect.stringMatching(/TaskArnParameter/) });
  });

  test('remediation is told the parameter and may read it', () => {
    const remediation = ofType(base.Lambda, 'AWS::Lambda::Function').find(
      (f) =>
        (f.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
          ?.REPLICATION_TASK_ARN_PARAMETER,
    );
    expect(remediation).toBeDefined();
    const statements = ofType(base.Lambda, 'AWS::IAM::Policy').flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: { Action: unknown }[] }).Statement,
    );
    expect(statements.some((st) => JSON.stringify(st.Action).includes('ssm:GetParameter'))).toBe(true);
  });
});

describe('the DataSync task', () => {
  const dataSyncRule = (t: Templates) => rule(t.Lambda, /^DataSync task execution ended in ERROR/);

  test('a later activation attempt (the task is created on that deploy) changes the DataSync rule', () => {
    const before = generationIn(dataSyncRule(base).Properties.Description);
    const after = generationIn(dataSyncRule(synth(undefined, '2')).Properties.Description);
    expect(before).toMatch(/^[0-9a-f]{12}$/);
    expect(after).toMatch(/^[0-9a-f]{12}$/);
    expect(after).not.toBe(before);
  });

  test('the same attempt keeps it', () => {
    expect(generationIn(dataSyncRule(synth()).Properties.Description)).toBe(
      generationIn(dataSyncRule(base).Properties.Description),
    );
  });
});
