import { Stack } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeAwsCustomResourceProvider } from './dms-account-roles';

/** An SSM parameter by name and ARN, as the constructs that read or write it need it. */
export interface ParameterRef {
  readonly parameterName: string;
  readonly parameterArn: string;
}

/**
 * A parameter whose value belongs to the workflow (or the operator): created once with `initialValue`,
 * never written by a deployment afterwards (no onUpdate), deleted with the stack.
 */
export class RuntimeOwnedParameter extends Construct implements ParameterRef {
  public readonly parameterName: string;
  public readonly parameterArn: string;
  constructor(scope: Construct, id: string, name: string, initialValue: string) {
    super(scope, id);
    this.parameterName = name;
    this.parameterArn = Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: name.replace(/^\//, ''),
    });
    new cr.AwsCustomResource(this, 'Resource', {
      onCreate: {
        service: 'SSM',
        action: 'putParameter',
        parameters: { Name: name, Value: initialValue, Type: 'String', Overwrite: true },
        physicalResourceId: cr.PhysicalResourceId.of(name),
      },
      onDelete: {
        service: 'SSM',
        action: 'deleteParameter',
        parameters: { Name: name },
        ignoreErrorCodesMatching: 'ParameterNotFound',
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.parameterArn] }),
      installLatestAwsSdk: false,
    });
    acknowledgeAwsCustomResourceProvider(Stack.of(this));
  }
}
