import { Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';

/**
 * The custom-resource Provider framework's own functions, roles and waiter state machine are
 * aws-cdk-lib code this project cannot change; each finding is acknowledged on the provider with
 * the reason. `handlers` are the project's onEvent/isComplete functions the framework invokes.
 */
export function acknowledgeProviderFindings(provider: cr.Provider, handlers: readonly lambda.Function[]): void {
  const stack = Stack.of(provider);
  const logicalId = (fn: lambda.Function): string => stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  const frameworkFunctions = ['framework-isComplete', 'framework-onTimeout']
    .map((id) => provider.node.tryFindChild(id))
    .filter((c): c is lambda.Function => c instanceof lambda.Function);
  const v = Validations.of(provider);
  v.acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'The custom resource Provider framework creates its functions with the AWS managed basic execution role (write to their own log group); aws-cdk-lib offers no other role shape for them.',
  });
  for (const fn of [...handlers, ...frameworkFunctions]) {
    v.acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`,
      reason:
        'The Provider framework grants lambda:InvokeFunction on this one function and its versions (`:*`); nothing beyond this function.',
    });
  }
  v.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'The waiter state machine delivers its logs to CloudWatch Logs; logs:CreateLogDelivery and related actions support no resource-level permissions.',
  });
  v.acknowledge({
    id: 'AwsSolutions-SF2',
    reason:
      'The framework waiter state machine only re-invokes the isComplete function, which is itself traced with X-Ray; the Provider exposes no tracing switch.',
  });
}
