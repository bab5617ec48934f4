/**
 * A bare stack holding only the CutoverWorkflow, with imported (fake) databases, services, load
 * balancers, alarms and topic: what the payment stage will pass in, without the stage.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  CutoverWorkflow,
  type CutoverSide,
  type CutoverWorkflowProps,
} from '../../lib/constructs/payment/cutover-workflow';
import { definitionFromTemplate, type AslDefinition } from './asl';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const ENV_NAME = 'dev';

export const FAKE = {
  forwardTaskArn: `arn:aws:dms:${REGION}:${ACCOUNT}:task:FORWARDTASKRESOURCEID`,
  forwardTaskResourceId: 'FORWARDTASKRESOURCEID',
  reverseTaskArn: `arn:aws:dms:${REGION}:${ACCOUNT}:task:REVERSETASKRESOURCEID`,
  reverseTaskResourceId: 'REVERSETASKRESOURCEID',
  replicationInstanceIdentifier: 'payment-dev-replication',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  recordName: 'pay.example.com',
  topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:payment-dev-alarms`,
  alarmNames: ['payment-dev-target-5xx', 'payment-dev-target-latency'],
  host: { source: 'source.abc.us-east-1.rds.amazonaws.com', target: 'target.abc.us-east-1.rds.amazonaws.com' },
  loadBalancerDimension: {
    source: 'app/payment-dev-source/1111111111111111',
    target: 'app/payment-dev-target/2222222222222222',
  },
  serviceArn: {
    source: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/payment-dev-source/payment-source`,
    target: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/payment-dev-target/payment-target`,
  },
  targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/payment-dev-target/3333333333333333`,
} as const;

function side(stack: Stack, vpc: ec2.IVpc, name: 'source' | 'target'): CutoverSide {
  const P = name === 'source' ? 'Source' : 'Target';
  const sg = ec2.SecurityGroup.fromSecurityGroupId(
    stack,
    `${P}DbSg`,
    `sg-${name === 'source' ? '0a' : '0b'}000000000000000`,
  );
  const cluster = ecs.Cluster.fromClusterAttributes(stack, `${P}Cluster`, {
    clusterName: `payment-dev-${name}`,
    vpc,
    securityGroups: [],
  });
  return {
    database: rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, `${P}Db`, {
      instanceIdentifier: `payment-dev-${name}`,
      instanceEndpointAddress: FAKE.host[name],
      port: 5432,
      securityGroups: [sg],
    }),
    databaseAdminSecret: secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      `${P}AdminSecret`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:payment-dev-${name}-admin-AbCdEf`,
    ),
    service: ecs.FargateService.fromFargateServiceAttributes(stack, `${P}Service`, {
      cluster,
      serviceArn: FAKE.serviceArn[name],
    }),
    cluster,
    targetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, `${P}Tg`, {
      targetGroupArn: name === 'target' ? FAKE.targetGroupArn : FAKE.targetGroupArn.replace('target/3', 'source/4'),
    }),
    loadBalancer: elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, `${P}Alb`, {
      loadBalancerArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/${FAKE.loadBalancerDimension[name]}`,
      securityGroupId: `sg-${name === 'source' ? '0c' : '0d'}000000000000000`,
    }),
  };
}

export interface SynthesizedCutover {
  readonly stack: Stack;
  readonly workflow: CutoverWorkflow;
  readonly template: Template;
  readonly definition: AslDefinition;
  /** The checks function's CUTOVER_PLAN_DEFAULTS, as deployed. */
  readonly checksEnvironment: Record<string, string>;
}

export function synthesizeCutover(overrides: Partial<CutoverWorkflowProps> = {}): SynthesizedCutover {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'CutoverTest', { env: { account: ACCOUNT, region: REGION } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const workflow = new CutoverWorkflow(stack, 'Cutover', {
    envName: ENV_NAME,
    source: side(stack, vpc, 'source'),
    target: side(stack, vpc, 'target'),
    forwardTask: { taskArn: FAKE.forwardTaskArn, taskResourceId: FAKE.forwardTaskResourceId },
    reverseTask: { taskArn: FAKE.reverseTaskArn, taskResourceId: FAKE.reverseTaskResourceId },
    replicationInstanceIdentifier: FAKE.replicationInstanceIdentifier,
    routing: {
      hostedZoneId: FAKE.hostedZoneId,
      recordName: FAKE.recordName,
      sourceSetIdentifier: 'source',
      targetSetIdentifier: 'target',
    },
    appAlarms: FAKE.alarmNames.map((n) =>
      cloudwatch.Alarm.fromAlarmArn(stack, `Alarm${n}`, `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${n}`),
    ),
    notificationTopic: sns.Topic.fromTopicArn(stack, 'Topic', FAKE.topicArn),
    vpc,
    ...overrides,
  });
  const template = Template.fromStack(stack);
  const logicalId = stack.getLogicalId(workflow.stateMachine.node.defaultChild as never);
  const definition = definitionFromTemplate(template.toJSON(), logicalId, { region: REGION, account: ACCOUNT });
  const fns = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'cutover-checks' } } },
  });
  const checksEnvironment = Object.values(fns)[0]?.Properties?.Environment?.Variables as Record<string, string>;
  return { stack, workflow, template, definition, checksEnvironment };
}
