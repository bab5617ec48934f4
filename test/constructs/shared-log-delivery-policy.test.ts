import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  LOG_DELIVERY_POLICY_NAME,
  SERVICE_LOG_PREFIXES,
  SharedLogDeliveryPolicy,
} from '../../lib/constructs/shared-log-delivery-policy';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';
import { resolveJoins } from './resolve-joins';

const ENV = { account: '111111111111', region: 'eu-west-1' };

interface SdkCall {
  service: string;
  action: string;
  parameters: { policyName: string; policyDocument: string };
  physicalResourceId: { id: string };
}

function build() {
  const app = new App();
  const stack = new Stack(app, 'Logging', { env: ENV });
  const policy = new SharedLogDeliveryPolicy(stack, 'LogDeliveryPolicy');
  const template = Template.fromStack(stack);
  const resources = Object.entries(template.findResources('Custom::LogDeliveryPolicy'));
  return { stack, policy, template, resources };
}

describe('SharedLogDeliveryPolicy', () => {
  const { stack, policy, template, resources } = build();
  const [id, resource] = resources[0] as [string, { Properties: Record<string, unknown> }];
  const create = JSON.parse(resolveJoins(resource.Properties.Create) as string) as SdkCall;
  const document = JSON.parse(create.parameters.policyDocument) as { Statement: Array<Record<string, unknown>> };
  const logGroups = (prefix: string) => `arn:aws:logs:${ENV.region}:${ENV.account}:log-group:${prefix}*`;

  it('writes the one account-wide policy under its fixed name, on create and on every update alike', () => {
    expect(resources).toHaveLength(1);
    expect(create).toMatchObject({
      service: 'CloudWatchLogs',
      action: 'putResourcePolicy',
      parameters: { policyName: LOG_DELIVERY_POLICY_NAME },
      physicalResourceId: { id: LOG_DELIVERY_POLICY_NAME },
    });
    expect(resolveJoins(resource.Properties.Update)).toEqual(resolveJoins(resource.Properties.Create));
  });

  it('is never deleted with a stack: other stages in the account rely on it', () => {
    expect(resource.Properties.Delete).toBeUndefined();
  });

  it('lets OpenSearch write only its own log groups of this account', () => {
    expect(document.Statement).toContainEqual({
      Sid: 'OpenSearchDomainLogs',
      Effect: 'Allow',
      Principal: { Service: 'es.amazonaws.com' },
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: logGroups(SERVICE_LOG_PREFIXES.openSearch),
      Condition: { StringEquals: { 'aws:SourceAccount': ENV.account } },
    });
  });

  it("lets DataSync write only its own log groups, for this account's tasks", () => {
    expect(document.Statement).toContainEqual({
      Sid: 'DataSyncTaskLogs',
      Effect: 'Allow',
      Principal: { Service: 'datasync.amazonaws.com' },
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: logGroups(SERVICE_LOG_PREFIXES.dataSync),
      Condition: {
        StringEquals: { 'aws:SourceAccount': ENV.account },
        ArnLike: { 'aws:SourceArn': `arn:aws:datasync:${ENV.region}:${ENV.account}:task/*` },
      },
    });
    expect(document.Statement).toHaveLength(2);
  });

  it('may call PutResourcePolicy and nothing else', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual([{ Action: 'logs:PutResourcePolicy', Effect: 'Allow', Resource: '*' }]);
  });

  it('offers the policy write as what a service log group depends on', () => {
    expect(stack.getLogicalId((policy.ready as { node: { defaultChild: never } }).node.defaultChild)).toBe(id);
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(stack)).toEqual([]);
  });
});
