import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { EnvironmentConfig } from '../../lib/config/environment-config';
import { IncomingObjectTrigger } from '../../lib/constructs/incoming-object-trigger';

/** What the Glue trigger's queue, event source and function are set to in a synthesized IncomingObjectTrigger. */
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
 * Synthesizes the IncomingObjectTrigger of `config` in a bare stack (its inputs imported by name, so nothing
 * else is built) and reads the Glue trigger's settings back from the template: what a simulation must run
 * against is what CloudFormation would deploy, not what the code meant to set.
 */
export function synthTriggerSettings(config: EnvironmentConfig): TriggerSettings {
  // Only the template is read (the simulation runs the handler in-process), so nothing is bundled.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Lambda', { env: { region: REGION } });
  const key = kms.Key.fromKeyArn(stack, 'Key', `arn:aws:kms:${REGION}:123456789012:key/data`);
  new IncomingObjectTrigger(stack, 'IncomingObjectTrigger', {
    logRetention: logs.RetentionDays.ONE_MONTH,
    dataBucket: s3.Bucket.fromBucketName(stack, 'DataBucket', 'data-bucket'),
    validationJob: glue.Job.fromJobAttributes(stack, 'Job', { jobName: 'validation-job' }),
    glue: config.glue,
    stateTable: dynamodb.TableV2.fromTableName(stack, 'StateTable', 'pipeline-state'),
    stateTableKey: key,
    queueKey: key,
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const find = (type: string, idPrefix: string) => {
    const hit = Object.entries(resources).find(([id, r]) => r.Type === type && id.startsWith(idPrefix));
    if (hit === undefined) throw new Error(`No ${type} ${idPrefix}* in the synthesized IncomingObjectTrigger`);
    return hit[1].Properties ?? {};
  };
  const fn = find('AWS::Lambda::Function', 'IncomingObjectTriggerHandler');
  const mapping = find('AWS::Lambda::EventSourceMapping', 'IncomingObjectTriggerHandler');
  const queue = find('AWS::SQS::Queue', 'IncomingObjectTriggerQueue');
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
