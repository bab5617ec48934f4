import { Fn, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The first block of the stack id's UUID (8 hex characters): it changes whenever the stack is
 * created anew, so a name that carries it never collides with a resource retained from an earlier
 * deployment of the same stack. Uses the stack-scoped `stackId`, which CDK passes correctly to
 * other stacks (a bare `AWS::StackId` would resolve to the consumer's own stack).
 */
export function deploymentSuffix(scope: IConstruct): string {
  const uuid = Fn.select(2, Fn.split('/', Stack.of(scope).stackId));
  return Fn.select(0, Fn.split('-', uuid));
}
