import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ManagedReplicationTask } from '../../lib/constructs/managed-replication-task';
import type { MonitoredPaymentEnvironment } from '../../lib/stacks/payment/payment-monitoring-stack';

/**
 * Stand-ins for what the PaymentCutoverStage core builds (both environments, the DMS task, the log bucket), as
 * real L2 resources in one stack of their own, so a stack under test meets them as cross-stack references the
 * way it will in the stage.
 */
export interface PaymentFixtures {
  readonly app: App;
  readonly stack: Stack;
  readonly source: MonitoredPaymentEnvironment;
  readonly target: MonitoredPaymentEnvironment;
  readonly replicationTask: ManagedReplicationTask;
  readonly logBucket: s3.Bucket;
}

export const FIXTURE_ENV = { account: '111111111111', region: 'us-east-1' };

export function paymentFixtures(app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })): PaymentFixtures {
  const stack = new Stack(app, 'Fixtures', { env: FIXTURE_ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const environment = (id: string): MonitoredPaymentEnvironment => {
    const database = new rds.DatabaseInstance(stack, `${id}Database`, {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      vpc,
      storageEncrypted: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const web = new ecsPatterns.ApplicationLoadBalancedFargateService(stack, `${id}Service`, {
      cluster,
      taskImageOptions: { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable') },
      publicLoadBalancer: true,
    });
    return { database, service: web.service, loadBalancer: web.loadBalancer, targetGroup: web.targetGroup };
  };
  const source = environment('Source');
  const target = environment('Target');
  const replicationTask = new ManagedReplicationTask(stack, 'ReplicationTask', {
    replicationInstanceArn: 'arn:aws:dms:us-east-1:111111111111:rep:INSTANCE',
    sourceEndpointArn: 'arn:aws:dms:us-east-1:111111111111:endpoint:SOURCE',
    targetEndpointArn: 'arn:aws:dms:us-east-1:111111111111:endpoint:TARGET',
    tableMappings: { rules: [] },
    replicationTaskSettings: {},
    logRetention: logs.RetentionDays.ONE_MONTH,
  });
  const logBucket = new s3.Bucket(stack, 'LogBucket', { versioned: true, enforceSSL: true });
  return { app, stack, source, target, replicationTask, logBucket };
}
