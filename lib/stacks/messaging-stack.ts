import { ArnFormat, CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { MigrationStackProps, statefulRemoval } from './migration-stack-props';
import { denyGrantsExceptForAwsServices } from '../constructs/key-policy';

export type MessagingStackProps = MigrationStackProps;

/**
 * Topics and dead-letter queues shared by the stage, all encrypted with one key whose policy lets
 * the AWS services that publish into them (EventBridge, CloudWatch alarms, SNS redrive) use it.
 */
export class MessagingStack extends Stack {
  public readonly messagingKey: kms.Key;
  /** Glue validation summaries; message attributes `status`, `dataset`, `correlationId`. */
  public readonly validationResultsTopic: sns.Topic;
  /** Alarms and remediation alerts for people. */
  public readonly alertsTopic: sns.Topic;
  /** Dead-letter queue for SNS subscriptions that could not be delivered. */
  public readonly subscriptionDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: MessagingStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.messagingKey = new kms.Key(this, 'MessagingKey', {
      description: 'Encrypts the stage topics and queues',
      enableKeyRotation: true,
      removalPolicy: statefulRemoval(config),
    });
    denyGrantsExceptForAwsServices(this.messagingKey);
    // Alarms of this account and region only (CloudWatch sends the alarm ARN as aws:SourceArn).
    const alarmArns = this.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const publishers: [string, Record<string, Record<string, string>>][] = [
      ['events.amazonaws.com', {}],
      ['cloudwatch.amazonaws.com', { ArnLike: { 'aws:SourceArn': alarmArns } }],
      ['sns.amazonaws.com', {}],
    ];
    for (const [service, extra] of publishers) {
      this.messagingKey.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': this.account }, ...extra },
        }),
      );
    }

    this.validationResultsTopic = new sns.Topic(this, 'ValidationResultsTopic', {
      displayName: `Validation results (${config.envName})`,
      masterKey: this.messagingKey,
      enforceSSL: true,
    });
    this.alertsTopic = new sns.Topic(this, 'AlertsTopic', {
      displayName: `Migration alerts (${config.envName})`,
      masterKey: this.messagingKey,
      enforceSSL: true,
    });
    // enforceSSL gives the topics a policy, which replaces SNS's default one: a publisher that is not
    // granted there is refused. CloudWatch alarms publish as cloudwatch.amazonaws.com.
    for (const topic of [this.alertsTopic]) {
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': this.account },
            ArnLike: { 'aws:SourceArn': alarmArns },
          },
        }),
      );
    }
    if (config.alarmEmail) {
      this.alertsTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }

    // EventBridge target DLQs live with their rules (LambdaStack, MonitoringStack): a queue policy
    // naming a rule ARN here would make this stack depend on the rule's stack.
    this.subscriptionDeadLetterQueue = new DeadLetterQueue(this, 'SubscriptionDeadLetterQueue', {
      key: this.messagingKey,
      deadLetterOf: 'the topic subscriptions',
      removalPolicy: statefulRemoval(config),
    });

    new CfnOutput(this, 'ValidationResultsTopicArn', { value: this.validationResultsTopic.topicArn });
    new CfnOutput(this, 'AlertsTopicArn', { value: this.alertsTopic.topicArn });
  }
}
