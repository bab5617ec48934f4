import { CfnRule, Fn, Stack, Stage, StageProps, Tags, Validations } from 'aws-cdk-lib';
import { StageAwsSolutionsChecks } from '../lib/compliance/nag';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../lib/config/environment-config';
import { SmokeTestAccess } from '../lib/constructs/smoke-test-access';
import { DatabaseStack } from '../lib/stacks/database-stack';
import { DataSyncStack } from '../lib/stacks/datasync-stack';
import { DmsStack } from '../lib/stacks/dms-stack';
import { GlueStack } from '../lib/stacks/glue-stack';
import { LambdaStack } from '../lib/stacks/lambda-stack';
import { LoggingStack } from '../lib/stacks/logging-stack';
import { MessagingStack } from '../lib/stacks/messaging-stack';
import { statefulRemoval } from '../lib/stacks/migration-stack-props';
import { MonitoringStack } from '../lib/stacks/monitoring-stack';
import { NetworkStack } from '../lib/stacks/network-stack';
import { OrchestrationStack } from '../lib/stacks/orchestration-stack';
import { StorageStack } from '../lib/stacks/storage-stack';

export interface MigrationStageProps extends StageProps {
  readonly config: EnvironmentConfig;
  /** Account of the pipeline whose smoke test may assume a role in this stage. @default none */
  readonly smokeTestTrustedAccount?: string;
  /**
   * Run cdk-nag inside the stage. Always on for real synths; tests that only inspect one template
   * may switch it off for speed. @default true
   */
  readonly nagChecks?: boolean;
}

/**
 * The file and database migration of one environment. Stacks are created in data-path order and
 * receive each other's resources as typed props; the stage adds the compliance checks, because
 * App-level plugins do not reach stacks inside a Stage.
 */
export class MigrationStage extends Stage {
  public readonly network: NetworkStack;
  public readonly storage: StorageStack;
  public readonly messaging: MessagingStack;
  public readonly logging: LoggingStack;
  public readonly dataSync: DataSyncStack;
  public readonly database: DatabaseStack;
  public readonly dms: DmsStack;
  public readonly glue: GlueStack;
  public readonly orchestration: OrchestrationStack;
  /** The role the pipeline's smoke test assumes; only when `smokeTestTrustedAccount` is set. */
  public readonly smokeTestAccess?: SmokeTestAccess;
  public readonly lambda: LambdaStack;
  public readonly monitoring: MonitoringStack;

  constructor(scope: Construct, id: string, props: MigrationStageProps) {
    super(scope, id, props);
    const { config } = props;
    const common = { config };

    this.network = new NetworkStack(this, 'Network', {
      ...common,
      description: `Migration ${config.envName}: VPC, endpoints, security groups`,
    });
    const { vpc } = this.network;
    this.storage = new StorageStack(this, 'Storage', {
      ...common,
      description: `Migration ${config.envName}: data bucket and key`,
    });
    this.messaging = new MessagingStack(this, 'Messaging', {
      ...common,
      description: `Migration ${config.envName}: topics and dead-letter queues`,
    });
    this.logging = new LoggingStack(this, 'Logging', {
      ...common,
      vpc,
      openSearchSecurityGroup: this.network.openSearchSecurityGroup,
      removalPolicy: statefulRemoval(config),
      serviceLinkedRoleReady: this.network.openSearchServiceLinkedRole.ready,
      logDeliveryPolicyReady: this.network.logDeliveryPolicy.ready,
      description: `Migration ${config.envName}: OpenSearch audit trail`,
    });
    this.dataSync = new DataSyncStack(this, 'DataSync', {
      ...common,
      vpc,
      dataBucket: this.storage.dataBucket,
      agentSecurityGroup: this.network.dataSyncAgentSecurityGroup,
      lambdaSecurityGroup: this.network.lambdaSecurityGroup,
      logDeliveryPolicyReady: this.network.logDeliveryPolicy.ready,
      ...(config.dataSync.activationAttempt !== undefined
        ? { activationAttempt: String(config.dataSync.activationAttempt) }
        : {}),
      description: `Migration ${config.envName}: DataSync agent, locations and task`,
    });
    this.database = new DatabaseStack(this, 'Database', {
      ...common,
      vpc,
      databaseSecurityGroup: this.network.databaseSecurityGroup,
      rotationSecurityGroup: this.network.rotationSecurityGroup,
      description: `Migration ${config.envName}: Aurora MySQL target`,
    });
    this.dms = new DmsStack(this, 'Dms', {
      ...common,
      vpc,
      dmsSecurityGroup: this.network.dmsSecurityGroup,
      targetSecret: this.database.secret,
      targetSecretKey: this.database.databaseKey,
      accountRolesReady: this.network.dmsAccountRoles.ready,
      description: `Migration ${config.envName}: DMS replication into Aurora`,
    });

    const logRemovalPolicy = statefulRemoval(config);
    this.glue = new GlueStack(this, 'Glue', {
      ...common,
      dataBucket: this.storage.dataBucket,
      dataKey: this.storage.dataKey,
      resultsTopic: this.messaging.validationResultsTopic,
      logRemovalPolicy,
      description: `Migration ${config.envName}: validation job`,
    });
    this.orchestration = new OrchestrationStack(this, 'Orchestration', {
      ...common,
      replicationTask: this.dms.task,
      replicationInstanceIdentifier: this.dms.replicationInstanceIdentifier,
      dataBucket: this.storage.dataBucket,
      resultsTopic: this.messaging.validationResultsTopic,
      alertsTopic: this.messaging.alertsTopic,
      logRemovalPolicy,
      description: `Migration ${config.envName}: replication workflow`,
    });
    if (props.smokeTestTrustedAccount) {
      // In OrchestrationStack: it already depends on StorageStack for the bucket and owns the state
      // machine, so the role adds no edge; in StorageStack it would close a cycle through the workflow.
      this.smokeTestAccess = new SmokeTestAccess(this.orchestration, 'SmokeTestAccess', {
        envName: config.envName,
        trustedAccount: props.smokeTestTrustedAccount,
        dataBucket: this.storage.dataBucket,
        stateMachine: this.orchestration.stateMachine,
      });
    }
    this.lambda = new LambdaStack(this, 'Lambda', {
      ...common,
      dataBucket: this.storage.dataBucket,
      dataKey: this.storage.dataKey,
      messagingKey: this.messaging.messagingKey,
      validationJob: this.glue.job,
      stateMachine: this.orchestration.stateMachine,
      stateMachineName: this.orchestration.stateMachine.stateMachineName,
      resultsTopic: this.messaging.validationResultsTopic,
      alertsTopic: this.messaging.alertsTopic,
      subscriptionDeadLetterQueue: this.messaging.subscriptionDeadLetterQueue,
      replicationTask: this.dms.task,
      dataSyncTask: { taskArn: this.dataSync.setup.taskArn, generation: this.dataSync.setup.taskGeneration },
      glueLogGroup: this.glue.logGroup,
      stateMachineLogGroup: this.orchestration.logGroup,
      dmsLogGroup: this.dms.taskLogGroup,
      logRemovalPolicy,
      description: `Migration ${config.envName}: data-path handlers`,
    });
    const functions = [
      { name: 'GlueTrigger', fn: this.lambda.glueTrigger },
      { name: 'SfnTrigger', fn: this.lambda.sfnTrigger },
      { name: 'Remediation', fn: this.lambda.remediation },
    ];
    this.monitoring = new MonitoringStack(this, 'Monitoring', {
      ...common,
      dataBucket: this.storage.dataBucket,
      job: this.glue.job,
      stateMachine: this.orchestration.stateMachine,
      replicationTask: this.dms.task,
      replicationInstanceIdentifier: this.dms.replicationInstanceIdentifier,
      cluster: this.database.cluster,
      domain: this.logging.domain,
      failureRules: this.lambda.failureRules,
      eventsDeadLetterQueue: this.lambda.eventsDeadLetterQueue,
      functions,
      deadLetterQueues: [
        ...functions.map(({ name, fn }) => ({ name: `${name}Dlq`, queue: fn.deadLetterQueue })),
        { name: 'ObjectEventsDlq', queue: this.lambda.objectEventsDeadLetterQueue },
        { name: 'SubscriptionDlq', queue: this.messaging.subscriptionDeadLetterQueue },
        // Invoked synchronously (custom-resource providers, Firehose), so nothing should land here; an alarm
        // still shows a stray asynchronous invocation the day it happens.
        { name: 'AuditSetupDlq', queue: this.logging.auditDomain.setupFunction.deadLetterQueue },
        { name: 'LogTransformDlq', queue: this.logging.delivery.logTransform.deadLetterQueue },
        { name: 'AgentSetupOnEventDlq', queue: this.dataSync.setup.onEventHandler.deadLetterQueue },
        { name: 'AgentSetupIsCompleteDlq', queue: this.dataSync.setup.isCompleteHandler.deadLetterQueue },
        { name: 'ReplicationTaskOnEventDlq', queue: this.dms.task.onEventHandler.deadLetterQueue },
        { name: 'ReplicationTaskIsCompleteDlq', queue: this.dms.task.isCompleteHandler.deadLetterQueue },
      ],
      triggerQueue: {
        queue: this.lambda.objectEventsQueue,
        oldestMessageAlarmSeconds: this.lambda.queueSizing.oldestMessageAlarmSeconds,
      },
      alertsTopic: this.messaging.alertsTopic,
      auditTarget: this.logging.auditEventTarget(),
      auditDeadLetterQueue: (scope) => this.logging.auditEventDeadLetterQueue(scope),
      description: `Migration ${config.envName}: alarms, dashboard, audit events`,
    });

    // Audit trail: every log group of the data path goes to OpenSearch.
    const auditedLogGroups = [
      ...functions.map(({ name, fn }) => ({ id: name, group: fn.functionLogGroup })),
      { id: 'ValidationJob', group: this.glue.logGroup },
      { id: 'ValidationJobOutput', group: this.glue.outputLogGroup },
      { id: 'Workflow', group: this.orchestration.logGroup },
      { id: 'DmsTask', group: this.dms.taskLogGroup },
      { id: 'DataSyncTask', group: this.dataSync.taskLogGroup },
    ];
    for (const { id, group } of auditedLogGroups) this.logging.subscribeLogGroup(group, id);

    for (const [k, v] of Object.entries(config.tags)) Tags.of(this).add(k, v);
    // A stray `cdk destroy` or console delete must not take staging or prod down.
    const protect = config.envName !== 'dev';
    for (const child of this.node.children) if (child instanceof Stack) child.terminationProtection = protect;
    // Synth works without an account; a deploy of such a template must fail, not land in whatever
    // account the caller's credentials happen to point at.
    if (!props.env?.account) {
      for (const child of this.node.children) {
        if (child instanceof Stack) {
          new CfnRule(child, 'AccountConfigured', {
            assertions: [
              {
                assert: Fn.conditionEquals('account-configured', 'account-missing'),
                assertDescription: `No AWS account is configured for ${config.envName}: set -c ${config.envName}Account=<id> or ${config.envName.toUpperCase()}_ACCOUNT and synthesize again.`,
              },
            ],
          });
        }
      }
    }
    if (props.nagChecks ?? true) {
      Validations.of(this).addPlugins(new StageAwsSolutionsChecks(this));
    }
  }
}
