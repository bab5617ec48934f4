import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/** Identities of the imported inputs; the documented sample events (test/fixtures/events) carry some of them. */
export const HOP = {
  account: '012345678912',
  region: 'us-east-1',
  bucketName: 'amzn-s3-demo-bucket1',
  jobName: 'MyJob',
  stateMachineArn: 'arn:aws:states:us-east-1:012345678912:stateMachine:state-machine',
  keyArn: 'arn:aws:kms:us-east-1:012345678912:key/11111111-2222-3333-4444-555555555555',
  queueKeyArn: 'arn:aws:kms:us-east-1:012345678912:key/66666666-7777-8888-9999-000000000000',
  resultsTopicArn: 'arn:aws:sns:us-east-1:012345678912:results',
  alertsTopicArn: 'arn:aws:sns:us-east-1:012345678912:alerts',
  subscriptionDlqArn: 'arn:aws:sqs:us-east-1:012345678912:subscription-dlq',
  tableName: 'pipeline-state',
} as const;

/**
 * A bare stack (bundling skipped) and the inputs a hop construct takes, each imported by name or ARN, so
 * a test builds nothing but the construct under test.
 */
export function hopStack() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Hop', { env: { account: HOP.account, region: HOP.region } });
  const key = kms.Key.fromKeyArn(stack, 'Key', HOP.keyArn);
  return {
    app,
    stack,
    inputs: {
      /** Encrypts the data (table, bucket). */
      key,
      /** Encrypts queues. */
      queueKey: kms.Key.fromKeyArn(stack, 'QueueKey', HOP.queueKeyArn),
      dataBucket: s3.Bucket.fromBucketName(stack, 'DataBucket', HOP.bucketName),
      validationJob: glue.Job.fromJobAttributes(stack, 'Job', { jobName: HOP.jobName }),
      stateMachine: sfn.StateMachine.fromStateMachineArn(stack, 'StateMachine', HOP.stateMachineArn),
      resultsTopic: sns.Topic.fromTopicArn(stack, 'Results', HOP.resultsTopicArn),
      alertsTopic: sns.Topic.fromTopicArn(stack, 'Alerts', HOP.alertsTopicArn),
      subscriptionDeadLetterQueue: sqs.Queue.fromQueueArn(stack, 'SubscriptionDlq', HOP.subscriptionDlqArn),
      stateTable: dynamodb.TableV2.fromTableName(stack, 'StateTable', HOP.tableName),
    },
  };
}

export interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

/** Every statement of the policies attached to `role`. */
export function statementsOf(template: Template, stack: Stack, role: iam.IRole | undefined): Statement[] {
  const roleId = stack.getLogicalId((role as iam.Role).node.defaultChild as never);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}

/** The actions a role is allowed on `resource` (compared as synthesized JSON). */
export function actionsOn(statements: Statement[], resource: unknown): string[] {
  const wanted = JSON.stringify(resource);
  return statements
    .filter((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).some((r) => JSON.stringify(r) === wanted))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .sort();
}
