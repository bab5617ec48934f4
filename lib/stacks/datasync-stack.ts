import { CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import * as datasync from 'aws-cdk-lib/aws-datasync';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IDependable } from 'constructs';
import { acknowledgeGrantActionGroups, REF } from '../compliance/nag';
import { DataSyncAgentSetup } from '../constructs/datasync-agent-setup';
import { SERVICE_LOG_PREFIXES, serviceLogGroupName } from '../constructs/shared-log-delivery-policy';
import { InstancePowerSchedule } from '../constructs/instance-power-schedule';
import { logRetention, MigrationStackProps } from './migration-stack-props';
import { DATA_PREFIXES } from './storage-stack';

/** Public SSM parameter AWS keeps pointing at the current DataSync agent AMI of each region. */
export const DATASYNC_AMI_PARAMETER = '/aws/service/datasync/ami';

export interface DataSyncStackProps extends MigrationStackProps {
  readonly vpc: ec2.IVpc;
  readonly dataBucket: s3.IBucket;
  readonly agentSecurityGroup: ec2.ISecurityGroup;
  /** Where the activation function runs; NetworkStack opens port 80 from it to the agent. */
  readonly lambdaSecurityGroup: ec2.ISecurityGroup;
  /**
   * The account's shared CloudWatch Logs resource policy (NetworkStack's `logDeliveryPolicy.ready`)
   * that lets DataSync write task logs; the task log group is named under its prefix.
   */
  readonly logDeliveryPolicyReady: IDependable;
  /** Changing this re-runs a failed activation on the next deploy (`dataSync.activationAttempt` in the environment's config). */
  readonly activationAttempt?: string;
}

/**
 * Moves files from the on-premises share into `incoming/`: an agent on EC2, its activation, the
 * source and destination locations and the task. Activation never fails the stack: when the agent
 * cannot be activated the stack completes with `ActivationSuccess=false` and instructions.
 */
export class DataSyncStack extends Stack {
  public readonly agentInstance: ec2.Instance;
  public readonly destinationLocation: datasync.CfnLocationS3;
  public readonly setup: DataSyncAgentSetup;
  public readonly taskLogGroup: logs.LogGroup;
  /** Starts the agent before scheduled transfers and stops it after; unset when it runs all the time. */
  public readonly agentPowerSchedule?: InstancePowerSchedule;

  constructor(scope: Construct, id: string, props: DataSyncStackProps) {
    super(scope, id, props);
    const { config, vpc } = props;

    this.agentInstance = new ec2.Instance(this, 'AgentInstance', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      instanceType: new ec2.InstanceType(config.dataSync.agentInstanceType),
      // Resolved by CloudFormation at deploy time in the target region; no AMI id is hard-coded.
      machineImage: ec2.MachineImage.fromSsmParameter(DATASYNC_AMI_PARAMETER),
      securityGroup: props.agentSecurityGroup,
      requireImdsv2: true,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(80, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
        },
      ],
    });
    Validations.of(this.agentInstance).acknowledge({
      id: 'AwsSolutions-EC29',
      reason:
        'The agent is stateless and re-creatable; termination protection would block the teardown that deletes its DataSync agent.',
    });

    const bucketRole = new iam.Role(this, 'DestinationBucketRole', {
      assumedBy: new iam.ServicePrincipal('datasync.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'DataSync writes into incoming/ of the data bucket',
    });
    props.dataBucket.grantReadWrite(bucketRole, `${DATA_PREFIXES.incoming}*`);
    acknowledgeGrantActionGroups(
      bucketRole,
      'incoming/ and the data key (DataSync needs object, listing and multipart actions: "Creating an IAM role for Amazon S3 locations")',
    );
    Validations.of(bucketRole).acknowledge();
    Validations.of(bucketRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${REF}/incoming/*]`,
      reason: 'Scoped to the incoming/ prefix, which is all DataSync writes.',
    });

    this.destinationLocation = new datasync.CfnLocationS3(this, 'DestinationLocation', {
      s3BucketArn: props.dataBucket.bucketArn,
      subdirectory: `/${DATA_PREFIXES.incoming}`,
      s3StorageClass: 'STANDARD',
      s3Config: { bucketAccessRoleArn: bucketRole.roleArn },
    });
    this.destinationLocation.node.addDependency(bucketRole);

    this.taskLogGroup = new logs.LogGroup(this, 'TaskLogs', {
      logGroupName: serviceLogGroupName(this, SERVICE_LOG_PREFIXES.dataSync, 'task'),
      retention: logRetention(config.logRetentionDays),
    });

    this.setup = new DataSyncAgentSetup(this, 'AgentSetup', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      agentInstance: this.agentInstance,
      handlerSecurityGroup: props.lambdaSecurityGroup,
      source: config.dataSync.source,
      destinationLocationArn: this.destinationLocation.attrLocationArn,
      taskLogGroup: this.taskLogGroup,
      taskLogPolicyReady: props.logDeliveryPolicyReady,
      agentName: `${Stack.of(this).stackName}-agent`,
      logRetention: logRetention(config.logRetentionDays),
      ...(config.dataSync.scheduleExpression ? { scheduleExpression: config.dataSync.scheduleExpression } : {}),
      ...(config.dataSync.existingAgentArn ? { existingAgentArn: config.dataSync.existingAgentArn } : {}),
      ...(props.activationAttempt ? { activationAttempt: props.activationAttempt } : {}),
    });

    const power = config.dataSync.agentPowerSchedule;
    if (power) {
      this.agentPowerSchedule = new InstancePowerSchedule(this, 'AgentPowerSchedule', {
        instance: this.agentInstance,
        ...power,
        purpose: `the DataSync agent runs only around the transfer schedule ${config.dataSync.scheduleExpression ?? ''}`,
      });
    }

    Validations.of(this.setup).acknowledge(
      ...['agent', 'location', 'task'].map((kind) => ({
        id: `AwsSolutions-IAM5[Resource::arn:${REF}:datasync:${REF}:${kind}/*]`,
        reason: `DataSync ${kind} ids are assigned when the custom resource creates them; the role can only touch ${kind}s of this account and region.`,
      })),
    );

    new CfnOutput(this, 'AgentInstanceId', { value: this.agentInstance.instanceId });
    new CfnOutput(this, 'ActivationSuccess', { value: this.setup.activationSuccess });
    new CfnOutput(this, 'AgentArn', { value: this.setup.agentArn });
    new CfnOutput(this, 'TaskArn', { value: this.setup.taskArn });
    new CfnOutput(this, 'S3LocationArn', { value: this.destinationLocation.attrLocationArn });
    new CfnOutput(this, 'SetupInstructions', { value: this.setup.setupInstructions });
  }
}
