import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DMS_ACCOUNT_ROLES, DmsAccountRoles } from '../../lib/constructs/dms-account-roles';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';
import { resolveJoins } from './resolve-joins';

const ENV = { account: '111111111111', region: 'us-east-1' };

interface SdkCall {
  action: string;
  parameters: Record<string, string>;
  physicalResourceId: { id: string };
  ignoreErrorCodesMatching?: string;
}

function build() {
  const app = new App();
  const stack = new Stack(app, 'Account', { env: ENV });
  const roles = new DmsAccountRoles(stack, 'DmsAccountRoles');
  const template = Template.fromStack(stack);
  const calls = Object.entries(template.findResources('Custom::AWS')).map(([id, r]) => {
    const p = (r as { Properties: Record<string, unknown> }).Properties;
    const create = JSON.parse(resolveJoins(p.Create) as string) as SdkCall;
    return { id, create, update: JSON.parse(resolveJoins(p.Update) as string) as SdkCall, resource: r, properties: p };
  });
  return { stack, roles, template, calls };
}

describe('DmsAccountRoles', () => {
  const { stack, roles, template, calls } = build();
  const creates = calls.filter((c) => c.create.action === 'createRole');
  const attaches = calls.filter((c) => c.create.action === 'attachRolePolicy');

  it('creates each role DMS looks up by name, trusted by DMS only, and leaves it alone when it exists', () => {
    expect(creates.map((c) => c.create.parameters.RoleName).sort()).toEqual(
      ['dms-cloudwatch-logs-role', 'dms-vpc-role'].sort(),
    );
    for (const { create, update } of creates) {
      expect(update).toEqual(create);
      expect(JSON.parse(create.parameters.AssumeRolePolicyDocument!)).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'dms.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
      expect(create.ignoreErrorCodesMatching).toBe('EntityAlreadyExists.*');
      expect(create.physicalResourceId).toEqual({ id: create.parameters.RoleName });
    }
  });

  it('attaches the AWS-managed policy each role needs, after the role exists', () => {
    expect(attaches.map((c) => [c.create.parameters.RoleName, c.create.parameters.PolicyArn]).sort()).toEqual(
      DMS_ACCOUNT_ROLES.map(({ roleName, policy }) => [roleName, `arn:aws:iam::aws:policy/${policy}`]).sort(),
    );
    for (const attach of attaches) {
      const create = creates.find((c) => c.create.parameters.RoleName === attach.create.parameters.RoleName)!;
      expect((attach.resource as { DependsOn?: string[] }).DependsOn).toContain(create.id);
    }
  });

  it('never deletes a role or detaches its policy: another stage or a console user may depend on it', () => {
    for (const { properties } of calls) expect(properties.Delete).toBeUndefined();
  });

  it('offers the attachments as what a replication subnet group or instance depends on', () => {
    expect(
      roles.ready.map((d) => stack.getLogicalId((d as { node: { defaultChild: never } }).node.defaultChild)),
    ).toEqual(attaches.map((a) => a.id));
  });

  it('may create only those two roles, and attach to them only their own policy', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
    );
    const roleArn = (name: string) => `arn:aws:iam::${ENV.account}:role/${name}`;
    expect(resolveJoins(statements)).toEqual(
      expect.arrayContaining(
        DMS_ACCOUNT_ROLES.flatMap(({ roleName, policy }) => [
          { Action: 'iam:CreateRole', Effect: 'Allow', Resource: roleArn(roleName) },
          {
            Action: 'iam:AttachRolePolicy',
            Effect: 'Allow',
            Resource: roleArn(roleName),
            Condition: { ArnEquals: { 'iam:PolicyARN': `arn:aws:iam::aws:policy/${policy}` } },
          },
        ]),
      ),
    );
    expect(statements).toHaveLength(4);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.not(Match.arrayWith([Match.objectLike({ Resource: '*' })])) },
    });
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(stack)).toEqual([]);
  });
});
