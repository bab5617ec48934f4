import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ExecutionScope } from '../../lib/config/environment-config';
import { OrchestrationTrigger } from '../../lib/constructs/orchestration-trigger';
import { actionsOn, HOP, hopStack, statementsOf } from '../support/hop-fixture';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';

function build(executions: ExecutionScope, withTable = true) {
  const { app, stack, inputs } = hopStack();
  const trigger = new OrchestrationTrigger(stack, 'OrchestrationTrigger', {
    logRetention: logs.RetentionDays.ONE_MONTH,
    dlqKey: inputs.queueKey,
    resultsTopic: inputs.resultsTopic,
    subscriptionDeadLetterQueue: inputs.subscriptionDeadLetterQueue,
    stateMachine: inputs.stateMachine,
    executions,
    ...(withTable ? { stateTable: { table: inputs.stateTable, key: inputs.key } } : {}),
  });
  const template = Template.fromStack(stack);
  return { app, stack, inputs, trigger, template, statements: statementsOf(template, stack, trigger.handler.role) };
}

describe('OrchestrationTrigger', () => {
  const perBatch = build('per-dataset-batch');

  test('subscribes to PASSED results only, keeping undeliverable ones in the subscription DLQ', () => {
    perBatch.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: HOP.resultsTopicArn,
      FilterPolicy: { status: ['PASSED'] },
      RedrivePolicy: { deadLetterTargetArn: HOP.subscriptionDlqArn },
    });
    perBatch.template.resourceCountIs('AWS::SNS::Subscription', 1);
    perBatch.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'sns.amazonaws.com',
      SourceArn: HOP.resultsTopicArn,
    });
  });

  test('per dataset batch it reads the claims: the table is named and only GetItem is granted', () => {
    perBatch.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          STATE_MACHINE_ARN: HOP.stateMachineArn,
          EXECUTION_SCOPE: 'per-dataset-batch',
          STATE_TABLE_NAME: HOP.tableName,
        }),
      },
    });
    const { stack, inputs, statements } = perBatch;
    expect(actionsOn(statements, stack.resolve(inputs.stateTable.tableArn))).toEqual(['dynamodb:GetItem']);
    expect(actionsOn(statements, HOP.keyArn)).toContain('kms:Decrypt');
    expect(actionsOn(statements, HOP.keyArn)).not.toContain('kms:Encrypt');
  });

  test('it may start executions of the workflow and nothing else on it', () => {
    expect(actionsOn(perBatch.statements, HOP.stateMachineArn)).toEqual(['states:StartExecution']);
  });

  test('per object it needs no table: none is named or granted, even when one is passed', () => {
    const perObject = build('per-object');
    const variables = Object.values(perObject.template.findResources('AWS::Lambda::Function')).map(
      (f) =>
        (f as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables,
    );
    expect(variables).toHaveLength(1);
    expect(variables[0]).toMatchObject({ EXECUTION_SCOPE: 'per-object' });
    expect(variables[0]).not.toHaveProperty('STATE_TABLE_NAME');
    const { stack, inputs, statements } = perObject;
    expect(actionsOn(statements, stack.resolve(inputs.stateTable.tableArn))).toEqual([]);
    expect(() => build('per-object', false)).not.toThrow();
  });

  test('per dataset batch without the table is refused', () => {
    expect(() => build('per-dataset-batch', false)).toThrow(/per-dataset-batch need the stateTable/);
  });

  test('leaves no unacknowledged AwsSolutions finding in a bare stack', () => {
    expect(unacknowledgedAwsSolutionsFindings(perBatch.app)).toEqual([]);
  });
});
