import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { EnvironmentConfig } from '../../lib/config/environment-config';
import { LambdaStack } from '../../lib/stacks/lambda-stack';

/** What the Glue trigger's queue, event source and function are set to in a synthesized LambdaStack. */
export interface TriggerSettings {
  /** The function's environment, with every token replaced by a plain placeholder. */
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly maxConcurrency: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly retentionSeconds: number;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

const REGION = 'us-west-2';

/**
 * Synthesizes a LambdaStack for `config` (its dependencies imported by name, so nothing else is built) and reads
 * the Glue trigger's settings back from the template: what a simulation must run against is what CloudFormation
 * would deploy, not what the code meant to set.
 */
export function synthTriggerSettings(config: EnvironmentConfig): TriggerSettings {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-burst-')) });
  const env = { region: REGION };
  const deps = new Stack(app, 'Deps', { env });
  const stack = new LambdaStack(app, 'Lambda', {
    env,
    config,
    dataBucket: s3.Bucket.fromBucketName(deps, 'DataBucket', 'data-bucket'),
    dataKey: new kms.Key(deps, 'DataKey'),
    messagingKey: new kms.Key(deps, 'MessagingKey'),
    validationJob: glue.Job.fromJobAttributes(deps, 'Job', { jobName: 'validation-job' }),
    stateMachine: sfn.StateMachine.fromStateMachineArn(
      deps,
      'StateMachine',
      `arn:aws:states:${REGION}:123456789012:stateMachine:orchestration`,
    ),
    stateMachineName: 'orchestration',
    glueJobMaxRetries: config.glue.maxRetries,
    resultsTopic: sns.Topic.fromTopicArn(deps, 'Results', `arn:aws:sns:${REGION}:123456789012:results`),
    alertsTopic: sns.Topic.fromTopicArn(deps, 'Alerts', `arn:aws:sns:${REGION}:123456789012:alerts`),
    subscriptionDeadLetterQueue: new sqs.Queue(deps, 'SubscriptionDlq'),
    replicationTask: {
      taskArn: `arn:aws:dms:${REGION}:123456789012:task:TASK`,
      taskArnParameter: ssm.StringParameter.fromStringParameterName(deps, 'TaskArn', '/migration/task-arn'),
      generation: 'gen-1',
    },
    glueLogGroup: logs.LogGroup.fromLogGroupName(deps, 'GlueLogs', '/aws-glue/jobs/x/error'),
    stateMachineLogGroup: logs.LogGroup.fromLogGroupName(deps, 'SfnLogs', '/aws/vendedlogs/states/x'),
    dmsLogGroup: logs.LogGroup.fromLogGroupName(deps, 'DmsLogs', 'dms-tasks-x'),
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const find = (type: string, idPrefix: string) => {
    const hit = Object.entries(resources).find(([id, r]) => r.Type === type && id.startsWith(idPrefix));
    if (hit === undefined) throw new Error(`No ${type} ${idPrefix}* in the synthesized LambdaStack`);
    return hit[1].Properties ?? {};
  };
  const fn = find('AWS::Lambda::Function', 'GlueTrigger');
  const mapping = find('AWS::Lambda::EventSourceMapping', 'GlueTrigger');
  const queue = find('AWS::SQS::Queue', 'ObjectEventsQueue');
  const variables = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
  const environment = Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : `<${name}>`]),
  );
  return {
    environment,
    timeoutSeconds: fn.Timeout as number,
    batchSize: mapping.BatchSize as number,
    maxBatchingWindowSeconds: (mapping.MaximumBatchingWindowInSeconds as number | undefined) ?? 0,
    maxConcurrency: (mapping.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency,
    visibilityTimeoutSeconds: queue.VisibilityTimeout as number,
    maxReceiveCount: (queue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
    retentionSeconds: queue.MessageRetentionPeriod as number,
  };
}
