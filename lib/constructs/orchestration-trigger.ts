import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { SfnTriggerEnvironment } from '../../lambda/sfn-trigger/config';
import type { ExecutionScope } from '../config/environment-config';
import { handlerEnvironment, type HopFunctionProps, MigrationFunction } from './migration-function';

export interface OrchestrationTriggerProps extends HopFunctionProps {
  /** The validation results topic; only messages with the attribute `status=PASSED` reach the trigger. */
  readonly resultsTopic: sns.ITopic;
  /** Keeps results SNS could not deliver to the trigger. */
  readonly subscriptionDeadLetterQueue: sqs.IQueue;
  /** The replication workflow the trigger starts. */
  readonly stateMachine: sfn.IStateMachine;
  /** One execution per dataset of each validated batch, or one per object. */
  readonly executions: ExecutionScope;
  /**
   * The Glue trigger's claims, which name the batch each object was validated in, and the key that encrypts
   * them. Needed (and granted) only for `per-dataset-batch`. @default none
   */
  readonly stateTable?: { readonly table: dynamodb.ITableV2; readonly key: kms.IKey };
}

/**
 * Second hop: validation results topic (`status=PASSED`) → Step Functions trigger function → one execution of
 * the replication workflow per dataset batch (or per object).
 */
export class OrchestrationTrigger extends Construct {
  /** The Step Functions trigger function. */
  public readonly handler: MigrationFunction;

  constructor(scope: Construct, id: string, props: OrchestrationTriggerProps) {
    super(scope, id);
    const perBatch = props.executions === 'per-dataset-batch';
    if (perBatch && !props.stateTable) {
      throw new Error('OrchestrationTrigger: executions per-dataset-batch need the stateTable holding the batches.');
    }
    const table = perBatch ? props.stateTable : undefined;
    this.handler = new MigrationFunction(this, 'Handler', {
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      dlqKey: props.dlqKey,
      handlerName: 'sfn-trigger',
      description: 'Starts the replication workflow for each dataset batch of PASSED validation results',
      environment: handlerEnvironment<SfnTriggerEnvironment>({
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        EXECUTION_SCOPE: props.executions,
        STATE_TABLE_NAME: table?.table.tableName,
      }),
    });
    props.stateMachine.grantStartExecution(this.handler);
    if (table) {
      // Reads the Glue trigger's claim of an object for the batch it was validated in.
      table.table.grant(this.handler, 'dynamodb:GetItem');
      table.key.grantDecrypt(this.handler);
    }
    props.resultsTopic.addSubscription(
      new subscriptions.LambdaSubscription(this.handler, {
        filterPolicy: { status: sns.SubscriptionFilter.stringFilter({ allowlist: ['PASSED'] }) },
        deadLetterQueue: props.subscriptionDeadLetterQueue,
      }),
    );
  }
}
