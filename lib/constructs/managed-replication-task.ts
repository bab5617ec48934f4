import { ArnFormat, CustomResource, Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { DmsTaskManagerEnvironment } from '../../lambda/dms-task-manager/config';
import { handlerEnvironment, MigrationFunction } from './migration-function';
import { producerGeneration } from './producer-generation';
import { waitingProvider } from './waiting-provider';

export type ReplicationMigrationType = 'full-load-and-cdc' | 'full-load' | 'cdc';

export interface ManagedReplicationTaskProps {
  readonly replicationInstanceArn: string;
  readonly sourceEndpointArn: string;
  readonly targetEndpointArn: string;
  /** @default 'full-load-and-cdc' */
  readonly migrationType?: ReplicationMigrationType;
  /** DMS table mappings (`{ rules: [...] }`), serialised with JSON.stringify. */
  readonly tableMappings: object;
  /** DMS task settings, serialised with JSON.stringify. */
  readonly replicationTaskSettings: object;
  /**
   * Task identifier: 1-255 lowercase letters, digits or hyphens, starting with a letter, no double
   * hyphen, not ending with a hyphen. A replacement (new instance, endpoint or migration type) gets
   * a suffix, because the old task still exists while the new one is created.
   * @default - derived from the stack name and construct path
   */
  readonly taskIdentifier?: string;
  /** Retention of the handlers' and the provider's log groups. */
  readonly logRetention: logs.RetentionDays;
  /** Removal of those log groups. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * What happens to the task when the resource is deleted or replaced. RETAIN leaves it (and a
   * replaced task keeps running next to its successor). @default DESTROY (the data lives in the target)
   */
  readonly removal?: RemovalPolicy;
  /** Key for the handlers' dead-letter queues. @default SQS-managed encryption */
  readonly dlqKey?: kms.IKey;
  /** Longest a create, stop-modify-resume or delete may take before the deployment fails. @default 2 hours */
  readonly totalTimeout?: Duration;
  /**
   * Values whose change replaces the replication instance or an endpoint without changing the
   * expression that references it (e.g. the instance's KMS key or subnet group): they become part of
   * `generation`. @default only the task's own replacing properties
   */
  readonly replacementInputs?: Record<string, unknown>;
}

/**
 * What a consumer needs to follow the current replication task: the ARN (a weak reference, fine in
 * templates that also carry `generation`), the SSM parameter that always holds the current ARN (for
 * code that runs later: handlers, the workflow, the operator CLI), and the generation.
 */
export interface ReplicationTaskReference {
  /** ARN of the task as of the consumer's last update. */
  readonly taskArn: string;
  /** Holds the current task ARN; updated by CloudFormation in the producer's stack when the task is replaced. */
  readonly taskArnParameter: ssm.IStringParameter;
  /** Changes whenever the task can have been replaced (see producerGeneration). */
  readonly generation: string;
}

const HANDLER_NAME = 'dms-task-manager';
const RESOURCE_TYPE = 'Custom::DmsReplicationTask';

/**
 * A DMS replication task owned by a custom resource instead of AWS::DMS::ReplicationTask, so that
 * changing mappings or settings of a running task stops, modifies and resumes it rather than failing
 * the deployment. The task is created `ready` and not started; the orchestration workflow starts it.
 */
export class ManagedReplicationTask extends Construct implements ReplicationTaskReference {
  /** ARN of the task (changes when the task is replaced). */
  public readonly taskArn: string;
  /** The task's identifier as DMS knows it (a replacement carries a suffix). */
  public readonly taskIdentifier: string;
  /** The last part of the ARN: the `ReplicationTaskIdentifier` dimension of DMS task metrics and the id in DMS events. */
  public readonly taskResourceId: string;
  public readonly onEventHandler: MigrationFunction;
  public readonly isCompleteHandler: MigrationFunction;
  public readonly provider: cr.Provider;
  public readonly resource: CustomResource;
  public readonly taskArnParameter: ssm.StringParameter;
  public readonly generation: string;

  constructor(scope: Construct, id: string, props: ManagedReplicationTaskProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const identifier =
      props.taskIdentifier ??
      toReplicationTaskIdentifier(Names.uniqueResourceName(this, { maxLength: 255, separator: '-' }));
    if (!Token.isUnresolved(identifier)) assertReplicationTaskIdentifier(identifier, this);

    const common = {
      handlerName: HANDLER_NAME,
      logRetention: props.logRetention,
      timeout: Duration.minutes(1),
      ...(props.logRemovalPolicy !== undefined ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
      ...(props.dlqKey !== undefined ? { dlqKey: props.dlqKey } : {}),
    };
    this.onEventHandler = new MigrationFunction(this, 'OnEventHandler', {
      ...common,
      description: 'DMS replication task: create, update (stop first when running) and delete requests',
      environment: handlerEnvironment<DmsTaskManagerEnvironment>({ CUSTOM_RESOURCE_PHASE: 'onEvent' }),
    });
    this.isCompleteHandler = new MigrationFunction(this, 'IsCompleteHandler', {
      ...common,
      description: 'DMS replication task: waits for ready, modifies and resumes, deletes',
      environment: handlerEnvironment<DmsTaskManagerEnvironment>({ CUSTOM_RESOURCE_PHASE: 'isComplete' }),
    });

    const taskArnPattern = stack.formatArn({
      service: 'dms',
      resource: 'task',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // DescribeReplicationTasks supports no resource-level permissions (Service Authorization Reference).
    const describe = new iam.PolicyStatement({
      sid: 'DescribeTasks',
      actions: ['dms:DescribeReplicationTasks'],
      resources: ['*'],
    });
    // The task id is assigned at creation: the task resource can only be scoped to account and Region.
    this.onEventHandler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CreateTask',
        actions: ['dms:CreateReplicationTask'],
        resources: [props.replicationInstanceArn, props.sourceEndpointArn, props.targetEndpointArn],
      }),
    );
    this.onEventHandler.addToRolePolicy(describe);
    this.onEventHandler.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'StopTask', actions: ['dms:StopReplicationTask'], resources: [taskArnPattern] }),
    );
    this.isCompleteHandler.addToRolePolicy(describe);
    this.isCompleteHandler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StopModifyResumeDeleteTask',
        actions: [
          'dms:StopReplicationTask',
          'dms:ModifyReplicationTask',
          'dms:StartReplicationTask',
          'dms:DeleteReplicationTask',
          'dms:ListTagsForResource',
          'dms:AddTagsToResource',
        ],
        resources: [taskArnPattern],
      }),
    );
    const nagTaskArn = `arn:<AWS::Partition>:dms:${Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region}:${
      Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account
    }:task:*`;
    for (const fn of [this.onEventHandler, this.isCompleteHandler]) {
      Validations.of(fn.role!).acknowledge(
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'dms:DescribeReplicationTasks and X-Ray tracing support no resource-level permissions.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${nagTaskArn}]`,
          reason:
            'DMS assigns the task id at creation; the handlers act only on the task ARN recorded as the physical resource id.',
        },
      );
    }

    this.provider = waitingProvider(this, {
      onEventHandler: this.onEventHandler,
      isCompleteHandler: this.isCompleteHandler,
      // CloudFormation waits at most an hour for a custom resource.
      totalTimeout: props.totalTimeout ?? Duration.minutes(55),
      logRetention: props.logRetention,
      ...(props.logRemovalPolicy ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.provider.serviceToken,
      resourceType: RESOURCE_TYPE,
      removalPolicy: props.removal ?? RemovalPolicy.DESTROY,
      properties: {
        ReplicationTaskIdentifier: identifier,
        ReplicationInstanceArn: props.replicationInstanceArn,
        SourceEndpointArn: props.sourceEndpointArn,
        TargetEndpointArn: props.targetEndpointArn,
        MigrationType: props.migrationType ?? 'full-load-and-cdc',
        TableMappings: JSON.stringify(props.tableMappings),
        ReplicationTaskSettings: JSON.stringify(props.replicationTaskSettings),
      },
    });
    this.taskArn = this.resource.getAttString('TaskArn');
    this.taskIdentifier = this.resource.getAttString('TaskIdentifier');
    this.taskResourceId = this.resource.getAttString('TaskResourceId');

    // CloudFormation updates this parameter in the producer's own stack whenever the custom resource
    // returns a new ARN, so code that reads it at run time never acts on a replaced task. The name is
    // generated (no fixed name to collide on a re-create); consumers get it by reference.
    this.taskArnParameter = new ssm.StringParameter(this, 'TaskArnParameter', {
      description: `Current ARN of the DMS replication task ${identifier} (managed by CloudFormation)`,
      stringValue: this.taskArn,
      tier: ssm.ParameterTier.STANDARD,
    });
    // The task's identity changes exactly when the handler creates a replacement: when instance,
    // endpoints or migration type change (lambda/dms-task-manager needsReplacement), or the identifier.
    this.generation = producerGeneration(this, {
      identifier,
      replicationInstanceArn: props.replicationInstanceArn,
      sourceEndpointArn: props.sourceEndpointArn,
      targetEndpointArn: props.targetEndpointArn,
      migrationType: props.migrationType ?? 'full-load-and-cdc',
      ...(props.replacementInputs ? { replacementInputs: props.replacementInputs } : {}),
    });
  }
}

/**
 * Turns any name into a valid replication task identifier: lowercase letters, digits and single
 * hyphens, starting with a letter, at most 255 characters, not ending with a hyphen.
 */
export function toReplicationTaskIdentifier(raw: string): string {
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 255)
    .replace(/-+$/, '');
  return cleaned === '' ? 'replication-task' : cleaned;
}

function assertReplicationTaskIdentifier(identifier: string, scope: Construct): void {
  if (!/^[a-z][a-z0-9-]{0,254}$/.test(identifier) || identifier.includes('--') || identifier.endsWith('-')) {
    throw new Error(
      `${scope.node.path}: taskIdentifier ${JSON.stringify(identifier)} must be 1-255 lowercase letters, digits or hyphens, start with a letter, and not end with or repeat a hyphen`,
    );
  }
}
