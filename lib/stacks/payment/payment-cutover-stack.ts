import { ArnFormat, CfnOutput, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from '../../constructs/key-policy';
import { CutoverWorkflow } from '../../constructs/payment/cutover-workflow';
import { PaymentEnvironment, SERVICE_DATABASE_USER } from '../../constructs/payment/payment-environment';
import { WeightedServiceRouting } from '../../constructs/payment/weighted-service-routing';
import { logRetention } from '../migration-stack-props';
import { PaymentDmsStack } from './payment-dms-stack';
import { cutoverParameterPrefix, PaymentStackProps, paymentRemoval, POSTGRES_PORT } from './payment-stack-props';

export interface PaymentCutoverStackProps extends PaymentStackProps {
  readonly vpc: ec2.IVpc;
  readonly source: PaymentEnvironment;
  readonly target: PaymentEnvironment;
  /** Forward and reverse tasks and the replication instance they run on. */
  readonly dms: PaymentDmsStack;
  /** Security group of the fence function (NetworkStack opened PostgreSQL and the endpoint to it). */
  readonly fenceSecurityGroup: ec2.ISecurityGroup;
  /** Application alarms: any in ALARM stops a pre-check, a bake and a gate. */
  readonly appAlarms: cloudwatch.IAlarm[];
  /** Where every decision of the workflow is published (the stage's alarm topic). */
  readonly notificationTopic: sns.ITopic;
  /** Encrypts every log group of the stack. */
  readonly logKey: kms.IKey;
}

/**
 * The cutover of one payment environment: the weighted service records with their health checks, and the
 * workflow that moves traffic and, once, the writes (docs/cutover-workflow.md). It deploys last: it reads
 * the services, databases, tasks and alarms of every other stack of the stage, and nothing reads it.
 */
export class PaymentCutoverStack extends Stack {
  public readonly routing: WeightedServiceRouting;
  public readonly workflow: CutoverWorkflow;

  constructor(scope: Construct, id: string, props: PaymentCutoverStackProps) {
    super(scope, id, props);
    const { config, source, target, dms } = props;
    const retention = logRetention(config.logRetentionDays);
    const removal = paymentRemoval(config);

    // The dead-letter queues' key lives here: a queue whose key is another stack's output (a weak
    // reference) is not recognisably encrypted to the Control Tower rule CT.SQS.PR.2.
    const dlqKey = new kms.Key(this, 'QueueKey', {
      description: `${props.namePrefix}: dead-letter queues of the cutover functions`,
      enableKeyRotation: true,
      removalPolicy: removal,
    });
    denyGrantsExceptForAwsServices(dlqKey);
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(this, 'HostedZone', {
      hostedZoneId: config.dns.hostedZoneId,
      zoneName: config.dns.hostedZoneName.replace(/\.$/, ''),
    });
    this.routing = new WeightedServiceRouting(this, 'Routing', {
      hostedZone,
      recordName: config.dns.recordName,
      source: { loadBalancer: source.loadBalancer, healthCheckPath: source.healthCheckPath, protocol: source.protocol },
      target: { loadBalancer: target.loadBalancer, healthCheckPath: target.healthCheckPath, protocol: target.protocol },
      logRetention: retention,
      logRemovalPolicy: removal,
      dlqKey,
      logKey: props.logKey,
    });

    const side = (environment: PaymentEnvironment) => ({
      database: environment.database,
      databaseAdminSecret: environment.masterSecret,
      service: environment.service,
      cluster: environment.cluster,
      targetGroup: environment.targetGroup,
      loadBalancer: environment.loadBalancer,
    });
    const task = (t: PaymentDmsStack['replicationTask']) => ({ taskArn: t.taskArn, taskResourceId: t.taskResourceId });
    this.workflow = new CutoverWorkflow(this, 'Workflow', {
      envName: props.envName,
      source: side(source),
      target: side(target),
      forwardTask: task(dms.replicationTask),
      reverseTask: task(dms.reverseTask),
      replicationInstanceIdentifier: dms.replicationInstanceIdentifier,
      routing: {
        hostedZoneId: hostedZone.hostedZoneId,
        recordName: this.routing.recordName,
        recordType: this.routing.recordType,
        sourceSetIdentifier: this.routing.sourceSetIdentifier,
        targetSetIdentifier: this.routing.targetSetIdentifier,
      },
      appAlarms: props.appAlarms,
      notificationTopic: props.notificationTopic,
      vpc: props.vpc,
      fenceSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      fenceSecurityGroup: props.fenceSecurityGroup,
      applicationRoleName: SERVICE_DATABASE_USER,
      databaseName: config.database.databaseName,
      schemas: config.dms.schemas.map((s) => s.name),
      databasePort: POSTGRES_PORT,
      databasePointer: source.databasePointer,
      parameterPrefix: cutoverParameterPrefix(props.namePrefix),
      logRetention: retention,
      logRemovalPolicy: removal,
      dlqKey,
      logKey: props.logKey,
    });

    // Each service may sign in to the other side's database: the pointer decides which one it uses. The
    // statements live here, not in the environment stacks, which must not depend on each other both ways.
    for (const [id, from, to] of [
      ['SourceServiceConnectsToTarget', source, target],
      ['TargetServiceConnectsToSource', target, source],
    ] as const) {
      new iam.Policy(this, id, {
        roles: [from.taskRole],
        statements: [
          new iam.PolicyStatement({
            actions: ['rds-db:connect'],
            resources: [
              this.formatArn({
                service: 'rds-db',
                resource: 'dbuser',
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
                resourceName: `${to.database.instanceResourceId}/${SERVICE_DATABASE_USER}`,
              }),
            ],
          }),
        ],
      });
    }

    new CfnOutput(this, 'ServiceName', {
      value: this.routing.recordName,
      description: 'Weighted service name (weights owned by the cutover workflow)',
    });
  }
}
