import { ArnFormat, CustomResource, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';
import type { NfsOrSmb } from '../config/environment-config';
import type { DataSyncAgentSetupEnvironment } from '../../lambda/datasync-agent-setup/config';
import { handlerEnvironment, MigrationFunction } from './migration-function';
import { dataSyncTaskLogsStatement } from './shared-log-delivery-policy';
import { producerGeneration } from './producer-generation';
import { waitingProvider } from './waiting-provider';

export interface DataSyncAgentSetupProps {
  /** VPC of the agent instance; the activation handler runs in it to reach the agent on port 80. */
  readonly vpc: ec2.IVpc;
  /** Private subnets with NAT egress for the activation handler (it also calls the DataSync API). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The EC2 instance running the DataSync agent AMI. A new instance id activates a new agent. */
  readonly agentInstance: ec2.Instance;
  /** Security group of the activation handler; the agent's group must allow TCP 80 from it. */
  readonly handlerSecurityGroup: ec2.ISecurityGroup;
  /** The on-premises share the task reads. */
  readonly source: NfsOrSmb;
  /** ARN of the S3 destination location (AWS::DataSync::LocationS3) the task writes to. */
  readonly destinationLocationArn: string;
  /** Log group of the task; this construct adds the resource policy that lets DataSync write to it. */
  readonly taskLogGroup: logs.ILogGroup;
  /**
   * An existing CloudWatch Logs resource policy that already lets DataSync write to `taskLogGroup`
   * (an account-wide shared one: the quota is 10 per account and region); none is created then.
   * @default - a resource policy for `taskLogGroup` is created here
   */
  readonly taskLogPolicyReady?: IDependable;
  /** Cron or rate expression for the task. @default - the task runs on demand */
  readonly scheduleExpression?: string;
  /** ARN of an agent activated by hand; activation is skipped and this agent is used (and never deleted). @default - activate the agent on `agentInstance` */
  readonly existingAgentArn?: string;
  /** Name of the agent in DataSync. */
  readonly agentName: string;
  /** Name of the task. @default `${agentName}-task` */
  readonly taskName?: string;
  /** Retention of the handlers' and the provider's log groups. */
  readonly logRetention: logs.RetentionDays;
  /** Removal of those log groups. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Key for the handlers' dead-letter queues. @default SQS-managed encryption */
  readonly dlqKey?: kms.IKey;
  /** How long activation is retried before the stack completes without an agent. @default 20 minutes */
  readonly activationBudget?: Duration;
  /**
   * Any change re-runs activation (and location/task creation) when they did not succeed; wire it
   * to `dataSync.activationAttempt` of the environment's config. @default '0'
   */
  readonly activationAttempt?: string;
}

const AGENT_RESOURCE_TYPE = 'Custom::DataSyncAgent';
const TRANSFER_RESOURCE_TYPE = 'Custom::DataSyncTransfer';
const HANDLER_NAME = 'datasync-agent-setup';
/** The provider keeps waiting this long after the activation budget before it would fail the stack. */
const PROVIDER_MARGIN = Duration.minutes(10);

/**
 * Activates the DataSync agent that runs on an EC2 instance and creates the source location and
 * the task, without ever failing the stack because the agent did not come up: when activation does
 * not succeed within the budget, the stack completes with `activationSuccess` = 'false' and
 * `setupInstructions` saying how to finish by hand or by the next deploy.
 *
 * Two custom resources behind one Provider: `Custom::DataSyncAgent` (activation; the agent is
 * deleted with it) and `Custom::DataSyncTransfer` (location and task, created once an agent exists).
 * They are separate so that replacing the location or task never deletes the agent they share.
 */
export class DataSyncAgentSetup extends Construct {
  /** 'true' when an agent is active (activated here or taken from `existingAgentArn`), else 'false'. */
  public readonly activationSuccess: string;
  /** The agent's ARN, or '' when activation did not succeed. */
  public readonly agentArn: string;
  /** The task's ARN, or '' while there is no agent or creation failed. */
  public readonly taskArn: string;
  /** The source location's ARN, or '' while there is no agent or creation failed. */
  public readonly sourceLocationArn: string;
  /** What happened and, when something is missing, the exact commands to finish the setup. */
  public readonly setupInstructions: string;
  /** Provider onEvent handler (creates, updates, deletes). */
  public readonly onEventHandler: MigrationFunction;
  /** Provider isComplete handler (activation; runs in the VPC). */
  public readonly isCompleteHandler: MigrationFunction;
  public readonly provider: cr.Provider;
  public readonly agentResource: CustomResource;
  public readonly transferResource: CustomResource;
  /**
   * Changes whenever `taskArn` can change: a new activation attempt (the task is created on a later
   * deploy), a new agent, source or task name. Consumers of `taskArn` carry it (producerGeneration).
   */
  public readonly taskGeneration: string;

  constructor(scope: Construct, id: string, props: DataSyncAgentSetupProps) {
    super(scope, id);
    const budget = props.activationBudget ?? Duration.minutes(20);
    const attempt = props.activationAttempt ?? '0';
    const common = {
      handlerName: HANDLER_NAME,
      logRetention: props.logRetention,
      ...(props.logRemovalPolicy !== undefined ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
      ...(props.dlqKey !== undefined ? { dlqKey: props.dlqKey } : {}),
    };

    this.onEventHandler = new MigrationFunction(this, 'OnEventHandler', {
      ...common,
      description: 'DataSync agent setup: custom resource events (agent deletion, source location and task)',
      timeout: Duration.minutes(2),
      environment: handlerEnvironment<DataSyncAgentSetupEnvironment>({ CUSTOM_RESOURCE_PHASE: 'onEvent' }),
    });
    this.isCompleteHandler = new MigrationFunction(this, 'IsCompleteHandler', {
      ...common,
      description: 'DataSync agent setup: activation of the agent on its EC2 instance',
      // Above the bounded HTTP (5 s) and SDK (2 x 25 s) waits: a function timeout would fail the stack.
      timeout: Duration.minutes(2),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.handlerSecurityGroup],
      environment: handlerEnvironment<DataSyncAgentSetupEnvironment>({ CUSTOM_RESOURCE_PHASE: 'isComplete' }),
    });
    this.grantDataSyncCalls(props);

    const taskLogPolicy = props.taskLogPolicyReady ?? this.allowDataSyncToWriteTaskLogs(props.taskLogGroup);

    this.provider = waitingProvider(this, {
      onEventHandler: this.onEventHandler,
      isCompleteHandler: this.isCompleteHandler,
      totalTimeout: budget.plus(PROVIDER_MARGIN),
      logRetention: props.logRetention,
      ...(props.logRemovalPolicy ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
    });

    this.agentResource = new CustomResource(this, 'Agent', {
      serviceToken: this.provider.serviceToken,
      resourceType: AGENT_RESOURCE_TYPE,
      properties: {
        InstanceId: props.agentInstance.instanceId,
        AgentIp: props.agentInstance.instancePrivateIp,
        AgentName: props.agentName,
        ExistingAgentArn: props.existingAgentArn ?? '',
        ActivationAttempt: attempt,
        ActivationBudgetSeconds: String(budget.toSeconds()),
        StackPath: Stack.of(this).node.path,
      },
    });

    const transferProperties = {
      AgentArn: this.agentResource.getAttString('AgentArn'),
      Source: sourceProperties(props.source),
      DestinationLocationArn: props.destinationLocationArn,
      CloudWatchLogGroupArn: props.taskLogGroup.logGroupArn,
      TaskName: props.taskName ?? `${props.agentName}-task`,
      ScheduleExpression: props.scheduleExpression ?? '',
      ActivationAttempt: attempt,
      StackPath: Stack.of(this).node.path,
    };
    this.transferResource = new CustomResource(this, 'Transfer', {
      serviceToken: this.provider.serviceToken,
      resourceType: TRANSFER_RESOURCE_TYPE,
      properties: transferProperties,
    });
    this.taskGeneration = producerGeneration(this, {
      agent: { InstanceId: props.agentInstance.instanceId, ExistingAgentArn: props.existingAgentArn ?? '' },
      transfer: transferProperties,
    });
    // CreateTask checks that DataSync may write to the log group.
    this.transferResource.node.addDependency(taskLogPolicy);

    this.activationSuccess = this.agentResource.getAttString('ActivationSuccess');
    this.agentArn = this.agentResource.getAttString('AgentArn');
    this.taskArn = this.transferResource.getAttString('TaskArn');
    this.sourceLocationArn = this.transferResource.getAttString('SourceLocationArn');
    this.setupInstructions = Fn.join('\n', [
      this.agentResource.getAttString('SetupInstructions'),
      this.transferResource.getAttString('SetupInstructions'),
    ]);
  }

  /** Every DataSync call the handlers make, and nothing else. */
  private grantDataSyncCalls(props: DataSyncAgentSetupProps): void {
    const stack = Stack.of(this);
    const datasyncArn = (resource: string): string =>
      stack.formatArn({ service: 'datasync', resource, resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });

    this.isCompleteHandler.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ActivateAgent', actions: ['datasync:CreateAgent'], resources: ['*'] }),
    );

    const createLocation =
      props.source.protocol === 'NFS' ? 'datasync:CreateLocationNfs' : 'datasync:CreateLocationSmb';
    const onEvent = this.onEventHandler;
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CreateLocationAndTask',
        actions: [createLocation, 'datasync:CreateTask'],
        resources: ['*'],
      }),
    );
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ManageTask',
        actions: ['datasync:UpdateTask', 'datasync:DeleteTask'],
        resources: [datasyncArn('task')],
      }),
    );
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeleteLocation',
        actions: ['datasync:DeleteLocation'],
        resources: [datasyncArn('location')],
      }),
    );
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeleteAgent',
        actions: ['datasync:DeleteAgent'],
        resources: [datasyncArn('agent')],
      }),
    );
    if (props.source.protocol === 'SMB') {
      onEvent.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadSmbPassword',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secretArnForPolicy(props.source.passwordSecretArn)],
        }),
      );
    }

    const createOnly =
      'DataSync CreateAgent, CreateLocationNfs/Smb and CreateTask support no resource-level permissions (Service Authorization Reference); ' +
      'the ids of what they create are unknown before the call.';
    const ownResources =
      'Agent, location and task ids are assigned by DataSync at creation, so delete/update can only be scoped to the account and Region; ' +
      'the handler only touches the ARNs recorded in its own physical resource id.';
    for (const fn of [this.isCompleteHandler, this.onEventHandler]) {
      Validations.of(fn.role!).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${createOnly} Also X-Ray tracing (see MigrationFunction).`,
      });
    }
    for (const resource of ['task', 'location', 'agent']) {
      Validations.of(onEvent.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'datasync', `${resource}/*`)}]`,
        reason: ownResources,
      });
    }
  }

  /**
   * DataSync writes task logs with its service principal; CloudWatch Logs needs a resource policy for
   * that (the console creates one when it creates a task). Scoped to this log group and to DataSync
   * tasks of this account and Region.
   * https://docs.aws.amazon.com/datasync/latest/userguide/configure-logging.html
   */
  private allowDataSyncToWriteTaskLogs(logGroup: logs.ILogGroup): logs.ResourcePolicy {
    const stack = Stack.of(this);
    return new logs.ResourcePolicy(this, 'TaskLogGroupPolicy', {
      policyStatements: [dataSyncTaskLogsStatement(stack, [logGroup.logGroupArn])],
    });
  }
}

function sourceProperties(source: NfsOrSmb): Record<string, string> {
  if (source.protocol === 'NFS') {
    return { Protocol: 'NFS', ServerHostname: source.serverHostname, Subdirectory: source.subdirectory };
  }
  return {
    Protocol: 'SMB',
    ServerHostname: source.serverHostname,
    Subdirectory: source.subdirectory,
    User: source.user,
    Domain: source.domain ?? '',
    // The ARN only: the handler reads the password at run time; it never enters the template.
    PasswordSecretArn: source.passwordSecretArn,
  };
}

/**
 * A complete secret ARN ends in `-` and six random characters; a partial one (the name only) needs
 * the wildcard that stands for them.
 */
export function secretArnForPolicy(secretArn: string): string {
  if (Token.isUnresolved(secretArn)) return secretArn;
  return /-[A-Za-z0-9]{6}$/.test(secretArn) ? secretArn : `${secretArn}-??????`;
}

/** How cdk-nag prints an ARN pattern of this stack in a finding id (pseudo parameters in angle brackets). */
function nagArn(stack: Stack, service: string, resource: string): string {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}
