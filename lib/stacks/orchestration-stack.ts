import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ReplicationTaskReference } from '../constructs/managed-replication-task';
import { ReplicationWorkflow } from '../constructs/replication-workflow';
import { logRetention, MigrationStackProps } from './migration-stack-props';

export interface OrchestrationStackProps extends MigrationStackProps {
  /** The full-load-and-CDC task (DmsStack), passed through to the workflow. */
  readonly replicationTask: ReplicationTaskReference;
  /** Identifier of the replication instance, the dimension DMS publishes its metrics under. */
  readonly replicationInstanceIdentifier: string;
  /** Bucket the workflow records batches in (StorageStack). */
  readonly dataBucket: s3.IBucket;
  /** Receives `REPLICATED` and `SMOKE_CHECKED` outcomes (MessagingStack). */
  readonly resultsTopic: sns.ITopic;
  /** Receives `REPLICATION_FAILED` (MessagingStack). */
  readonly alertsTopic: sns.ITopic;
  /** Removal of the workflow's log group. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The replication workflow of the stage (`ReplicationWorkflow`): between the Step Functions
 * trigger (LambdaStack) and DMS. The stage adds the pipeline's smoke-test access here too
 * (`SmokeTestAccess`), because this stack already holds both things it refers to.
 */
export class OrchestrationStack extends Stack {
  public readonly workflow: ReplicationWorkflow;
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  public readonly stateMachineArnOutput: CfnOutput;

  constructor(scope: Construct, id: string, props: OrchestrationStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.workflow = new ReplicationWorkflow(this, 'ReplicationWorkflow', {
      replicationTask: props.replicationTask,
      replicationInstanceIdentifier: props.replicationInstanceIdentifier,
      dataBucket: props.dataBucket,
      resultsTopic: props.resultsTopic,
      alertsTopic: props.alertsTopic,
      envName: config.envName,
      cdcLatencyThresholdSeconds: config.dms.cdcLatencyThresholdSeconds,
      logRetention: logRetention(config.logRetentionDays),
      ...(props.logRemovalPolicy !== undefined ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
    });
    this.stateMachine = this.workflow.stateMachine;
    this.logGroup = this.workflow.logGroup;
    this.stateMachineArnOutput = new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
  }
}
