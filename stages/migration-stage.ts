import { Stage, StageProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../lib/config/environment-config';
import { DatabaseStack } from '../lib/stacks/database-stack';
import { DataSyncStack } from '../lib/stacks/datasync-stack';
import { DmsStack } from '../lib/stacks/dms-stack';
import { LoggingStack } from '../lib/stacks/logging-stack';
import { MessagingStack } from '../lib/stacks/messaging-stack';
import { statefulRemoval } from '../lib/stacks/migration-stack-props';
import { NetworkStack } from '../lib/stacks/network-stack';
import { StorageStack } from '../lib/stacks/storage-stack';

export interface MigrationStageProps extends StageProps {
  readonly config: EnvironmentConfig;
  /** Re-runs a failed DataSync activation when changed. */
  readonly dataSyncActivationAttempt?: string;
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

  constructor(scope: Construct, id: string, props: MigrationStageProps) {
    super(scope, id, props);
    const { config } = props;
    const common = { config };

    this.network = new NetworkStack(this, 'Network', {
      ...common,
      description: `Migration ${config.envName}: VPC, endpoints, security groups`,
    });
    const { vpc } = this.network;
    this.storage = new StorageStack(this, 'Storage', { ...common, description: `Migration ${config.envName}: data bucket and key` });
    this.messaging = new MessagingStack(this, 'Messaging', { ...common, description: `Migration ${config.envName}: topics and dead-letter queues` });
    this.logging = new LoggingStack(this, 'Logging', {
      ...common,
      vpc,
      openSearchSecurityGroup: this.network.openSearchSecurityGroup,
      removalPolicy: statefulRemoval(config),
      description: `Migration ${config.envName}: OpenSearch audit trail`,
    });
    this.dataSync = new DataSyncStack(this, 'DataSync', {
      ...common,
      vpc,
      dataBucket: this.storage.dataBucket,
      agentSecurityGroup: this.network.dataSyncAgentSecurityGroup,
      lambdaSecurityGroup: this.network.lambdaSecurityGroup,
      ...(props.dataSyncActivationAttempt ? { activationAttempt: props.dataSyncActivationAttempt } : {}),
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
      description: `Migration ${config.envName}: DMS replication into Aurora`,
    });

    for (const [k, v] of Object.entries(config.tags)) Tags.of(this).add(k, v);
    if (props.nagChecks ?? true) {
      Validations.of(this).addPlugins(new AwsSolutionsChecks(this));
    }
  }
}
