import { App, Duration, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ManagedReplicationTask,
  ManagedReplicationTaskProps,
  toReplicationTaskIdentifier,
} from '../../lib/constructs/managed-replication-task';

const INSTANCE = 'arn:aws:dms:us-west-2:123456789012:rep:INSTANCE';
const SOURCE = 'arn:aws:dms:us-west-2:123456789012:endpoint:SOURCE';
const TARGET = 'arn:aws:dms:us-west-2:123456789012:endpoint:TARGET';
const MAPPINGS = {
  rules: [
    {
      'rule-type': 'selection',
      'rule-id': '1',
      'rule-name': 'orders',
      'object-locator': { 'schema-name': 'orders', 'table-name': '%' },
      'rule-action': 'include',
    },
  ],
};
const SETTINGS = { ValidationSettings: { EnableValidation: true }, Logging: { EnableLogging: true } };

function build(overrides: Partial<ManagedReplicationTaskProps> = {}, env?: { account: string; region: string }) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stage = new Stage(app, 'Dev');
  const stack = new Stack(stage, 'Dms', { stackName: 'dev-migration-dms', ...(env ? { env } : {}) });
  const task = new ManagedReplicationTask(stack, 'ReplicationTask', {
    replicationInstanceArn: INSTANCE,
    sourceEndpointArn: SOURCE,
    targetEndpointArn: TARGET,
    tableMappings: MAPPINGS,
    replicationTaskSettings: SETTINGS,
    logRetention: logs.RetentionDays.ONE_MONTH,
    ...overrides,
  });
  return { app, stage, stack, task, template: Template.fromStack(stack) };
}

type Statement = { Action: string | string[]; Resource: unknown; Sid?: string };

function policyOf(template: Template, stack: Stack, fn: { role?: unknown }): Statement[] {
  const roleId = stack.getLogicalId((fn.role as { node: { defaultChild: never } }).node.defaultChild);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}

const actionsOf = (stmts: Statement[]): string[] =>
  stmts.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
const TASK_PATTERN = {
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':dms:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':task:*'],
  ],
};

describe('ManagedReplicationTask', () => {
  const built = build();

  it('owns the task through the custom resource, with mappings and settings serialised as JSON', () => {
    built.template.hasResource('Custom::DmsReplicationTask', {
      Properties: {
        ReplicationInstanceArn: INSTANCE,
        SourceEndpointArn: SOURCE,
        TargetEndpointArn: TARGET,
        MigrationType: 'full-load-and-cdc',
        TableMappings: JSON.stringify(MAPPINGS),
        ReplicationTaskSettings: JSON.stringify(SETTINGS),
        ReplicationTaskIdentifier: Match.stringLikeRegexp('^devmigrationdms-replicationtask-[0-9a-f]{8}$'),
      },
      DeletionPolicy: 'Delete',
    });
    built.template.resourceCountIs('AWS::DMS::ReplicationTask', 0);
  });

  it('takes the migration type, identifier and removal given', () => {
    const { template } = build({ migrationType: 'cdc', taskIdentifier: 'orders-cdc', removal: RemovalPolicy.RETAIN });
    template.hasResource('Custom::DmsReplicationTask', {
      Properties: { MigrationType: 'cdc', ReplicationTaskIdentifier: 'orders-cdc' },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it.each([
    ['uppercase', 'Orders'],
    ['a double hyphen', 'orders--cdc'],
    ['a trailing hyphen', 'orders-'],
    ['a leading digit', '1orders'],
    ['256 characters', 'o'.repeat(256)],
  ])('refuses an identifier with %s at synth', (_case, taskIdentifier) => {
    expect(() => build({ taskIdentifier })).toThrow(/taskIdentifier .* must be 1-255 lowercase letters/);
  });

  it.each([
    ['a construct path', 'Dev/Dms/ReplicationTask', 'dev-dms-replicationtask'],
    ['leading digits and underscores', '__9lives__Task', 'lives-task'],
    ['300 characters', 'a'.repeat(300), 'a'.repeat(255)],
    ['a hyphen at the cut', `${'a'.repeat(254)}-b`, 'a'.repeat(254)],
    ['no letter at all', '123', 'replication-task'],
  ])('derives a valid identifier from %s', (_case, raw, expected) => {
    expect(toReplicationTaskIdentifier(raw)).toBe(expected);
  });

  it('exposes ARN, identifier and resource id from the custom resource', () => {
    const { stack, task } = built;
    const id = stack.getLogicalId(task.resource.node.defaultChild as never);
    expect(stack.resolve(task.taskArn)).toEqual({ 'Fn::GetAtt': [id, 'TaskArn'] });
    expect(stack.resolve(task.taskIdentifier)).toEqual({ 'Fn::GetAtt': [id, 'TaskIdentifier'] });
    expect(stack.resolve(task.taskResourceId)).toEqual({ 'Fn::GetAtt': [id, 'TaskResourceId'] });
  });

  it('waits up to 55 minutes (CloudFormation allows a custom resource an hour), polling every 30 s, with the waiter logged', () => {
    const definition = JSON.stringify(built.template.findResources('AWS::StepFunctions::StateMachine'));
    expect(definition).toContain('\\"IntervalSeconds\\":30,\\"MaxAttempts\\":110');
    built.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
    const quick = build({ totalTimeout: Duration.minutes(30) });
    expect(JSON.stringify(quick.template.findResources('AWS::StepFunctions::StateMachine'))).toContain(
      '\\"MaxAttempts\\":60',
    );
  });

  it('lets the onEvent handler create only against this instance and these endpoints', () => {
    const { template, stack, task } = built;
    const onEvent = policyOf(template, stack, task.onEventHandler);
    expect(onEvent.find((s) => s.Sid === 'CreateTask')).toMatchObject({
      Action: 'dms:CreateReplicationTask',
      Resource: [INSTANCE, SOURCE, TARGET],
    });
    expect(onEvent.find((s) => s.Sid === 'StopTask')).toMatchObject({
      Action: 'dms:StopReplicationTask',
      Resource: TASK_PATTERN,
    });
    expect(
      actionsOf(onEvent)
        .filter((a) => a.startsWith('dms:'))
        .sort(),
    ).toEqual(['dms:CreateReplicationTask', 'dms:DescribeReplicationTasks', 'dms:StopReplicationTask']);
  });

  it('lets the isComplete handler stop, modify, resume and delete tasks, and describe', () => {
    const { template, stack, task } = built;
    const isComplete = policyOf(template, stack, task.isCompleteHandler);
    expect(isComplete.find((s) => s.Sid === 'StopModifyResumeDeleteTask')).toMatchObject({ Resource: TASK_PATTERN });
    expect(isComplete.find((s) => s.Sid === 'DescribeTasks')).toMatchObject({
      Action: 'dms:DescribeReplicationTasks',
      Resource: '*',
    });
    expect(
      actionsOf(isComplete)
        .filter((a) => a.startsWith('dms:'))
        .sort(),
    ).toEqual([
      'dms:AddTagsToResource',
      'dms:DeleteReplicationTask',
      'dms:DescribeReplicationTasks',
      'dms:ListTagsForResource',
      'dms:ModifyReplicationTask',
      'dms:StartReplicationTask',
      'dms:StopReplicationTask',
    ]);
  });

  it('grants no wildcard action anywhere', () => {
    const all = Object.values(built.template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
    );
    expect(actionsOf(all).filter((a) => a.includes('*'))).toEqual([]);
  });

  it('runs both handlers on the project defaults, told apart by phase', () => {
    for (const phase of ['onEvent', 'isComplete']) {
      built.template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: Match.objectLike({ CUSTOM_RESOURCE_PHASE: phase, POWERTOOLS_SERVICE_NAME: 'dms-task-manager' }),
        },
      });
    }
  });

  it.each([
    ['an environment-agnostic stack', undefined],
    ['a stack with account and Region', { account: '123456789012', region: 'us-west-2' }],
  ])('leaves no unacknowledged AwsSolutions finding in %s', (_case, env) => {
    const { app } = build({}, env);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
