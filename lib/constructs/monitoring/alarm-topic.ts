import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from '../key-policy';

export interface AlarmTopicProps {
  /** Shown as the sender of e-mail notifications. @default - none */
  readonly displayName?: string;
  /** Address subscribed to the topic (it must confirm the subscription). @default - no subscription */
  readonly email?: string;
  /**
   * Names of the alarms allowed to publish, as the start of the alarm name: the `aws:SourceArn` condition of the
   * CloudWatch grants is `arn:…:cloudwatch:<region>:<account>:alarm:<prefix>*`. An alarm whose name does not start
   * with it is refused by SNS and KMS, so pass the prefix every alarm of the stage is named with.
   * @default '' (any alarm of this account and Region)
   */
  readonly alarmNamePrefix?: string;
  /** Removal of the key. @default RemovalPolicy.RETAIN */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

/**
 * An SNS topic for alarms and events, encrypted with its own rotating KMS key, that CloudWatch alarms and
 * EventBridge rules of this account can actually publish to.
 *
 * A topic encrypted with a customer managed key silently drops what an AWS service publishes unless both the
 * topic policy (sns:Publish) and the key policy (kms:GenerateDataKey*, kms:Decrypt) name the service
 * (SNS developer guide, "Enable compatibility between event sources from AWS services and encrypted topics").
 *
 * - CloudWatch: both policies are scoped by `aws:SourceAccount` and by `aws:SourceArn` (alarm ARNs under
 *   {@link AlarmTopicProps.alarmNamePrefix}), against the confused-deputy problem.
 * - EventBridge: the topic policy is scoped by `aws:SourceAccount` and the rule ARNs of this account and Region.
 *   The key grant carries no source condition: EventBridge does not send `aws:SourceAccount`/`aws:SourceArn` with
 *   its KMS requests, so such a condition would drop every event. The key encrypts this topic alone, so the topic
 *   policy is what decides which rules may publish.
 */
export class AlarmTopic extends Construct {
  public readonly key: kms.Key;
  public readonly topic: sns.Topic;
  /** The `aws:SourceArn` pattern CloudWatch grants are scoped to. */
  public readonly alarmArnPattern: string;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the alarm topic ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    denyGrantsExceptForAwsServices(this.key);
    this.topic = new sns.Topic(this, 'Topic', {
      masterKey: this.key,
      enforceSSL: true,
      ...(props.displayName ? { displayName: props.displayName } : {}),
    });

    this.alarmArnPattern = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${props.alarmNamePrefix ?? ''}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const ruleArnPattern = stack.formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const cloudWatchConditions = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': this.alarmArnPattern },
    };
    const cloudwatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const events = new iam.ServicePrincipal('events.amazonaws.com');

    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudwatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: cloudWatchConditions,
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeRulesPublish',
        principals: [events],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': ruleArnPattern },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsUseKey',
        principals: [cloudwatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: cloudWatchConditions,
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeUseKey',
        principals: [events],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
