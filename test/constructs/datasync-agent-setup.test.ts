import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { NfsOrSmb } from '../../lib/config/environment-config';
import {
  DataSyncAgentSetup,
  DataSyncAgentSetupProps,
  secretArnForPolicy,
} from '../../lib/constructs/datasync-agent-setup';

const NFS: NfsOrSmb = {
  protocol: 'NFS',
  serverHostname: 'nfs.onprem.example.internal',
  subdirectory: '/exports/migration',
};
const SMB_SECRET = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:dev/smb-password-AbCdEf';
const SMB: NfsOrSmb = {
  protocol: 'SMB',
  serverHostname: 'files.onprem.example.internal',
  subdirectory: '/share/migration',
  user: 'svc-datasync',
  domain: 'CORP',
  passwordSecretArn: SMB_SECRET,
};

interface Built {
  readonly stack: Stack;
  readonly setup: DataSyncAgentSetup;
  readonly template: Template;
  readonly app: App;
}

function build(overrides: Partial<DataSyncAgentSetupProps> = {}, env?: { account: string; region: string }): Built {
  // Bundling skipped: these tests look at the template, not at the code.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'DataSync', env ? { env } : {});
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1, maxAzs: 2 });
  const handlerSecurityGroup = new ec2.SecurityGroup(stack, 'HandlerSg', { vpc });
  const agentInstance = new ec2.Instance(stack, 'AgentInstance', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    instanceType: new ec2.InstanceType('m5.2xlarge'),
    machineImage: ec2.MachineImage.genericLinux({ 'us-west-2': 'ami-0123456789abcdef0' }),
  });
  const taskLogGroup = new logs.LogGroup(stack, 'TaskLogs', { retention: logs.RetentionDays.ONE_MONTH });
  const setup = new DataSyncAgentSetup(stack, 'Setup', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    agentInstance,
    handlerSecurityGroup,
    source: NFS,
    destinationLocationArn: 'arn:aws:datasync:us-west-2:123456789012:location/loc-0s3destination00',
    taskLogGroup,
    agentName: 'dev-migration-agent',
    logRetention: logs.RetentionDays.ONE_MONTH,
    ...overrides,
  });
  return { app, stack, setup, template: Template.fromStack(stack) };
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

/** Every statement of every identity policy in the template. */
function statements(template: Template): { Action: string | string[]; Resource: unknown; Sid?: string }[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: never[] } } }).Properties.PolicyDocument.Statement,
  );
}

function policyOf(
  template: Template,
  stack: Stack,
  fn: { role?: unknown },
): { Action: string | string[]; Resource: unknown; Sid?: string }[] {
  const roleId = stack.getLogicalId((fn.role as { node: { defaultChild: never } }).node.defaultChild);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: never[] } } }).Properties.PolicyDocument.Statement,
  );
}

const actionsOf = (stmts: { Action: string | string[] }[]): string[] =>
  stmts.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('DataSyncAgentSetup', () => {
  const nfs = build();

  it('wires both custom resources to one Provider with an isComplete waiter', () => {
    const { template, setup, stack } = nfs;
    const frameworkOnEvent = logicalId(stack, setup.provider.node.findChild('framework-onEvent'));
    for (const type of ['Custom::DataSyncAgent', 'Custom::DataSyncTransfer']) {
      template.hasResourceProperties(type, { ServiceToken: { 'Fn::GetAtt': [frameworkOnEvent, 'Arn'] } });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [logicalId(stack, setup.onEventHandler), 'Arn'] },
          USER_IS_COMPLETE_FUNCTION_ARN: { 'Fn::GetAtt': [logicalId(stack, setup.isCompleteHandler), 'Arn'] },
        }),
      },
    });
  });

  it('polls every 30 s for the activation budget plus a margin, and logs the waiter', () => {
    const definition = JSON.stringify(nfs.template.findResources('AWS::StepFunctions::StateMachine'));
    // (20 + 10) minutes / 30 s
    expect(definition).toContain('\\"IntervalSeconds\\":30,\\"MaxAttempts\\":60');
    nfs.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });

    const short = build({ activationBudget: Duration.minutes(5) });
    expect(JSON.stringify(short.template.findResources('AWS::StepFunctions::StateMachine'))).toContain(
      '\\"MaxAttempts\\":30',
    );
  });

  it('runs activation in the VPC with the handler security group, and the rest outside', () => {
    const { template, stack, setup } = nfs;
    const sgId = logicalId(stack, stack.node.findChild('HandlerSg'));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CUSTOM_RESOURCE_PHASE: 'isComplete' }) },
      VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }], SubnetIds: Match.anyValue() },
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
    });
    const onEvent = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ CUSTOM_RESOURCE_PHASE: 'onEvent' }) } },
    });
    expect(Object.keys(onEvent)).toEqual([logicalId(stack, setup.onEventHandler)]);
    expect(Object.values(onEvent)[0]).not.toHaveProperty('Properties.VpcConfig');
  });

  it('passes the instance, the budget and the attempt to the agent resource', () => {
    const { template, stack } = nfs;
    const instanceId = logicalId(stack, stack.node.findChild('AgentInstance'));
    template.hasResourceProperties('Custom::DataSyncAgent', {
      InstanceId: { Ref: instanceId },
      AgentIp: { 'Fn::GetAtt': [instanceId, 'PrivateIp'] },
      AgentName: 'dev-migration-agent',
      ExistingAgentArn: '',
      ActivationAttempt: '0',
      ActivationBudgetSeconds: '1200',
      StackPath: 'DataSync',
    });
    const retry = build({
      activationAttempt: '3',
      existingAgentArn: 'arn:aws:datasync:us-west-2:123456789012:agent/agent-0b0addbeef44baca3',
    });
    retry.template.hasResourceProperties('Custom::DataSyncAgent', {
      ActivationAttempt: '3',
      ExistingAgentArn: 'arn:aws:datasync:us-west-2:123456789012:agent/agent-0b0addbeef44baca3',
    });
    retry.template.hasResourceProperties('Custom::DataSyncTransfer', { ActivationAttempt: '3' });
  });

  it('feeds the agent ARN to the transfer resource, after the log group policy exists', () => {
    const { template, stack, setup } = nfs;
    const agentId = logicalId(stack, setup.agentResource);
    const policyId = logicalId(stack, setup.node.findChild('TaskLogGroupPolicy'));
    template.hasResource('Custom::DataSyncTransfer', {
      Properties: {
        AgentArn: { 'Fn::GetAtt': [agentId, 'AgentArn'] },
        Source: { Protocol: 'NFS', ServerHostname: 'nfs.onprem.example.internal', Subdirectory: '/exports/migration' },
        DestinationLocationArn: 'arn:aws:datasync:us-west-2:123456789012:location/loc-0s3destination00',
        CloudWatchLogGroupArn: { 'Fn::GetAtt': [logicalId(stack, stack.node.findChild('TaskLogs')), 'Arn'] },
        TaskName: 'dev-migration-agent-task',
        ScheduleExpression: '',
      },
      DependsOn: Match.arrayWith([policyId]),
    });
    build({ scheduleExpression: 'cron(0 2 * * ? *)' }).template.hasResourceProperties('Custom::DataSyncTransfer', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
    });
  });

  it('exposes the attributes as tokens of the two resources', () => {
    const { stack, setup } = nfs;
    const agentId = logicalId(stack, setup.agentResource);
    const transferId = logicalId(stack, setup.transferResource);
    expect(stack.resolve(setup.activationSuccess)).toEqual({ 'Fn::GetAtt': [agentId, 'ActivationSuccess'] });
    expect(stack.resolve(setup.agentArn)).toEqual({ 'Fn::GetAtt': [agentId, 'AgentArn'] });
    expect(stack.resolve(setup.taskArn)).toEqual({ 'Fn::GetAtt': [transferId, 'TaskArn'] });
    expect(stack.resolve(setup.sourceLocationArn)).toEqual({ 'Fn::GetAtt': [transferId, 'SourceLocationArn'] });
    expect(stack.resolve(setup.setupInstructions)).toEqual({
      'Fn::Join': [
        '\n',
        [{ 'Fn::GetAtt': [agentId, 'SetupInstructions'] }, { 'Fn::GetAtt': [transferId, 'SetupInstructions'] }],
      ],
    });
  });

  it('grants no wildcard action anywhere', () => {
    for (const template of [nfs.template, build({ source: SMB }).template]) {
      const wildcard = actionsOf(statements(template)).filter((a) => a.includes('*'));
      expect(wildcard).toEqual([]);
    }
  });

  it('gives each handler only the DataSync calls it makes', () => {
    const { template, stack, setup } = nfs;
    const isComplete = actionsOf(policyOf(template, stack, setup.isCompleteHandler)).filter((a) =>
      a.startsWith('datasync:'),
    );
    const onEvent = actionsOf(policyOf(template, stack, setup.onEventHandler)).filter((a) => a.startsWith('datasync:'));
    expect(isComplete.sort()).toEqual(['datasync:CreateAgent']);
    expect(onEvent.sort()).toEqual([
      'datasync:CreateLocationNfs',
      'datasync:CreateTask',
      'datasync:DeleteAgent',
      'datasync:DeleteLocation',
      'datasync:DeleteTask',
      'datasync:UpdateTask',
    ]);
    const deleteAgent = policyOf(template, stack, setup.onEventHandler).find((s) => s.Sid === 'DeleteAgent');
    expect(stack.resolve(deleteAgent?.Resource)).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':datasync:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':agent/*',
        ],
      ],
    });
  });

  it('lets only the SMB setup read the SMB secret, and only that secret', () => {
    expect(actionsOf(statements(nfs.template)).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);

    const smb = build({ source: SMB });
    const read = policyOf(smb.template, smb.stack, smb.setup.onEventHandler).filter((s) =>
      actionsOf([s]).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(read).toEqual([
      { Sid: 'ReadSmbPassword', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SMB_SECRET },
    ]);
    expect(
      actionsOf(policyOf(smb.template, smb.stack, smb.setup.isCompleteHandler)).filter((a) =>
        a.startsWith('secretsmanager:'),
      ),
    ).toEqual([]);
    expect(actionsOf(policyOf(smb.template, smb.stack, smb.setup.onEventHandler))).toContain(
      'datasync:CreateLocationSmb',
    );
    smb.template.hasResourceProperties('Custom::DataSyncTransfer', {
      Source: { Protocol: 'SMB', User: 'svc-datasync', Domain: 'CORP', PasswordSecretArn: SMB_SECRET },
    });
    expect(JSON.stringify(smb.template.toJSON())).not.toMatch(/"Password"/);
  });

  it('scopes a secret given by name (partial ARN) to its random suffix', () => {
    expect(secretArnForPolicy('arn:aws:secretsmanager:us-west-2:123456789012:secret:dev/smb')).toBe(
      'arn:aws:secretsmanager:us-west-2:123456789012:secret:dev/smb-??????',
    );
    expect(secretArnForPolicy(SMB_SECRET)).toBe(SMB_SECRET);
  });

  it('lets DataSync write task logs to that log group only, for tasks of this account', () => {
    const { template, stack } = nfs;
    const policies = Object.values(template.findResources('AWS::Logs::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    const document = JSON.parse(
      JSON.stringify(
        stack.resolve((policies[0] as { Properties: { PolicyDocument: unknown } }).Properties.PolicyDocument),
      ),
    ) as { 'Fn::Join': [string, unknown[]] };
    // The document is a Fn::Join of JSON text and tokens; check the parts that matter.
    const text = JSON.stringify(document);
    expect(text).toContain('datasync.amazonaws.com');
    expect(text).toContain('logs:CreateLogStream');
    expect(text).toContain('logs:PutLogEvents');
    expect(text).toContain(`{"Fn::GetAtt":["${logicalId(stack, stack.node.findChild('TaskLogs'))}","Arn"]}`);
    expect(text).toContain('aws:SourceAccount');
    expect(text).toContain(':task/*');
  });

  it.each([
    ['an environment-agnostic stack', undefined],
    ['a stack with account and Region', { account: '123456789012', region: 'us-west-2' }],
  ])('leaves no unacknowledged AwsSolutions finding in %s', (_case, env) => {
    for (const source of [NFS, SMB]) {
      const { app } = build({ source }, env);
      const report = new AwsSolutionsChecks(app).validateScope(app);
      const mine = report.violations
        .map((v) => ({
          rule: v.ruleName,
          paths: v.violatingResources.map((r) => (r as { constructPath?: string }).constructPath ?? ''),
        }))
        .filter((v) => v.paths.some((p) => p.includes('/Setup/')));
      expect(mine).toEqual([]);
    }
  });
});
