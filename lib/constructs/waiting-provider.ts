import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

export interface WaitingProviderProps {
  readonly onEventHandler: lambda.Function;
  readonly isCompleteHandler: lambda.Function;
  /** How long the waiter polls isComplete before the resource fails (CloudFormation allows an hour). */
  readonly totalTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /** @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A custom-resource Provider that polls isComplete every 30 s, with the framework's functions and
 * waiter logging into one log group with retention, and its aws-cdk-lib findings acknowledged.
 * Shared by the DataSync agent setup and the DMS task manager.
 */
export function waitingProvider(scope: Construct, props: WaitingProviderProps): cr.Provider {
  const logGroup = new logs.LogGroup(scope, 'ProviderLogGroup', {
    retention: props.logRetention,
    removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
  });
  const provider = new cr.Provider(scope, 'Provider', {
    onEventHandler: props.onEventHandler,
    isCompleteHandler: props.isCompleteHandler,
    queryInterval: Duration.seconds(30),
    totalTimeout: props.totalTimeout,
    logGroup,
    disableWaiterStateMachineLogging: false,
    waiterStateMachineLogOptions: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });
  acknowledgeProviderFindings(provider, [props.onEventHandler, props.isCompleteHandler]);
  return provider;
}

/**
 * The custom-resource Provider framework's own functions, roles and waiter state machine are
 * aws-cdk-lib code this project cannot change; each finding is acknowledged on the provider with
 * the reason. `handlers` are the project's onEvent/isComplete functions the framework invokes.
 */
function acknowledgeProviderFindings(provider: cr.Provider, handlers: readonly lambda.Function[]): void {
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
