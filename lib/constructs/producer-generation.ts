import { createHash } from 'node:crypto';
import { Lazy, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A short fingerprint of what decides a producer resource's identity, known at synth time.
 *
 * Cross-stack references in this app are weak (`Fn::GetStackOutput`): CloudFormation reads them only
 * when the consuming stack updates. A producer whose physical id changes while its logical id stays
 * (a custom resource that creates a replacement, a DataSync task created on a later activation
 * attempt) would leave an unchanged consumer holding the old value. Consumers put this fingerprint
 * into the resources that hold the value (a rule's description, an alarm's description, a policy
 * statement's Sid, an environment variable), so whatever can replace the producer also changes the
 * consumer's template, and the consumer's update re-reads the reference. ADR 0009.
 *
 * `inputs` are resolved in the producer's stack: a token becomes its CloudFormation expression
 * (`{"Ref": ...}`), so a renamed or re-parented dependency counts as a change. It may over-approximate:
 * a change that does not replace the producer only makes the consumer update once, harmlessly.
 */
export function producerGeneration(scope: IConstruct, inputs: Record<string, unknown>): string {
  const stack = Stack.of(scope);
  return Lazy.string({
    produce: () =>
      createHash('sha256')
        .update(JSON.stringify(stack.resolve(inputs)))
        .digest('hex')
        .slice(0, 12),
  });
}
