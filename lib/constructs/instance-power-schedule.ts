import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';

export interface InstancePowerScheduleProps {
  /** The instance to start and stop. */
  readonly instance: ec2.IInstance;
  /** When to start it: `cron(...)` in UTC. */
  readonly startExpression: string;
  /** When to stop it: `cron(...)` in UTC. */
  readonly stopExpression: string;
  /** What the schedules say they are for. @default 'Runs the instance only when it is needed' */
  readonly purpose?: string;
}

/**
 * Starts and stops an EC2 instance on two EventBridge Scheduler schedules that call the EC2 API
 * directly (universal targets), so nothing but the instance runs. Stopping keeps the instance's
 * EBS volume, private IP and whatever it has registered (a DataSync agent stays activated). Its
 * volumes use the AWS-managed EBS key: with a customer key, StartInstances would also need
 * kms:CreateGrant on that key.
 */
export class InstancePowerSchedule extends Construct {
  public readonly startSchedule: scheduler.Schedule;
  public readonly stopSchedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: InstancePowerScheduleProps) {
    super(scope, id);
    const instanceArn = Stack.of(this).formatArn({
      service: 'ec2',
      resource: 'instance',
      resourceName: props.instance.instanceId,
    });
    const purpose = props.purpose ?? 'Runs the instance only when it is needed';
    const schedule = (name: 'Start' | 'Stop', expression: string) => {
      const action = name === 'Start' ? 'startInstances' : 'stopInstances';
      return new scheduler.Schedule(this, name, {
        description: `${name}s ${props.instance.node.path}: ${purpose}`,
        schedule: scheduler.ScheduleExpression.expression(expression),
        target: new targets.Universal({
          service: 'ec2',
          action,
          input: scheduler.ScheduleTargetInput.fromObject({ InstanceIds: [props.instance.instanceId] }),
          policyStatements: [new iam.PolicyStatement({ actions: [`ec2:${name}Instances`], resources: [instanceArn] })],
          // A failed start or stop is retried for up to an hour, then dropped until the next run.
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        }),
      });
    };
    this.startSchedule = schedule('Start', props.startExpression);
    this.stopSchedule = schedule('Stop', props.stopExpression);
  }
}
