import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IConstruct } from 'constructs';

/** Construct id of the dead-letter queue, one per stack of the rules that use the target. */
export const AUDIT_EVENT_DLQ_ID = 'AuditEventTargetDlq';

export interface AuditEventTargetProps {
  /** The Firehose stream the events go to (the audit-events stream). */
  readonly stream: firehose.IDeliveryStreamRef;
  /** The role EventBridge assumes to put records into `stream`. */
  readonly role: iam.IRole;
  /** Retries before an event goes to the dead-letter queue. @default 185 (EventBridge's maximum) */
  readonly retryAttempts?: number;
  /** Age after which an undelivered event goes to the dead-letter queue. @default Duration.hours(24) (the maximum) */
  readonly maxEventAge?: Duration;
  /** What a stack deletion does to the dead-letter queue and the events it holds. @default RemovalPolicy.RETAIN */
  readonly deadLetterRemovalPolicy?: RemovalPolicy;
}

/**
 * EventBridge rule target: the event goes to a Firehose stream. In: any rule it is added to. Out: the
 * stream, or, after the retries, `AuditEventTargetDlq` in the rule's own stack (created on first use,
 * one per stack, SQS-managed encryption, 14 days). The queue lives beside the rule because a queue
 * policy naming the rule's ARN in the stream's stack would make that stack depend on the rule's.
 */
export class AuditEventTarget implements events.IRuleTarget {
  /**
   * The dead-letter queue used for rules in `scope`'s stack, created on first use (for a depth alarm).
   * @param removalPolicy applies when this call creates the queue @default RemovalPolicy.RETAIN
   */
  public static deadLetterQueue(scope: IConstruct, removalPolicy: RemovalPolicy = RemovalPolicy.RETAIN): sqs.IQueue {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(AUDIT_EVENT_DLQ_ID);
    if (existing) return existing as sqs.Queue;
    const queue = new sqs.Queue(stack, AUDIT_EVENT_DLQ_ID, {
      retentionPeriod: Duration.days(14),
      // SQS-managed keys: EventBridge cannot use a customer key without a key policy naming it.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of EventBridge targets; it has no further queue to redrive to.',
    });
    return queue;
  }

  constructor(private readonly props: AuditEventTargetProps) {}

  public bind(rule: events.IRuleRef, _id?: string): events.RuleTargetConfig {
    const dlq = AuditEventTarget.deadLetterQueue(rule, this.props.deadLetterRemovalPolicy);
    dlq.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `AllowRule${rule.node.addr}`,
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [dlq.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleRef.ruleArn } },
      }),
    );
    return {
      arn: this.props.stream.deliveryStreamRef.deliveryStreamArn,
      role: this.props.role,
      deadLetterConfig: { arn: dlq.queueArn },
      // EventBridge's maximums by default: a stream that is briefly unavailable loses nothing.
      retryPolicy: {
        maximumRetryAttempts: this.props.retryAttempts ?? 185,
        maximumEventAgeInSeconds: (this.props.maxEventAge ?? Duration.hours(24)).toSeconds(),
      },
      targetResource: this.props.stream,
    };
  }
}
