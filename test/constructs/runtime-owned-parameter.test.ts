import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RuntimeOwnedParameter } from '../../lib/constructs/runtime-owned-parameter';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';

const ENV = { account: '111111111111', region: 'us-east-1' };
/** The ARN of parameter `name` (without its leading slash) as the template writes it. */
const parameterArn = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:${ENV.region}:${ENV.account}:parameter/${name}`]],
});

function build(name = '/payment-dev/cutover/database-pointer', initialValue = '{"writer":"source"}') {
  const app = new App();
  const stack = new Stack(app, 'Parameters', { env: ENV });
  const parameter = new RuntimeOwnedParameter(stack, 'Pointer', name, initialValue);
  const template = Template.fromStack(stack);
  const [resource] = Object.values(template.findResources('Custom::AWS')) as Array<{
    Properties: Record<string, string | undefined>;
  }>;
  return { stack, parameter, template, properties: resource!.Properties };
}

describe('RuntimeOwnedParameter', () => {
  const { stack, parameter, template, properties } = build();

  it('writes the initial value once, on create', () => {
    expect(JSON.parse(properties.Create!)).toMatchObject({
      service: 'SSM',
      action: 'putParameter',
      parameters: {
        Name: '/payment-dev/cutover/database-pointer',
        Value: '{"writer":"source"}',
        Type: 'String',
        Overwrite: true,
      },
      physicalResourceId: { id: '/payment-dev/cutover/database-pointer' },
    });
  });

  it('never writes it again on a deployment: the value belongs to the workflow or the operator', () => {
    expect(properties.Update).toBeUndefined();
  });

  it('deletes the parameter with the stack, and does not fail when it is already gone', () => {
    expect(JSON.parse(properties.Delete!)).toMatchObject({
      action: 'deleteParameter',
      parameters: { Name: '/payment-dev/cutover/database-pointer' },
      ignoreErrorCodesMatching: 'ParameterNotFound',
    });
  });

  it('may put and delete that one parameter only', () => {
    const arn = parameterArn('payment-dev/cutover/database-pointer');
    expect(stack.resolve(parameter.parameterArn)).toEqual(arn);
    expect(parameter.parameterName).toBe('/payment-dev/cutover/database-pointer');
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual([
      { Action: 'ssm:PutParameter', Effect: 'Allow', Resource: arn },
      { Action: 'ssm:DeleteParameter', Effect: 'Allow', Resource: arn },
    ]);
  });

  it('builds the ARN of a name without a leading slash the same way', () => {
    const plain = build('plain-name');
    expect(plain.stack.resolve(plain.parameter.parameterArn)).toEqual(parameterArn('plain-name'));
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(stack)).toEqual([]);
  });
});
