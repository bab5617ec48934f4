import { ArnFormat, CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { REF } from '../../compliance/nag';
import { LogReplication } from '../../constructs/payment/log-replication';
import { PaymentEnvironment } from '../../constructs/payment/payment-environment';
import { PaymentDmsStack } from './payment-dms-stack';
import { PaymentStackProps } from './payment-stack-props';

/** Name of the role the pipeline's payment smoke test assumes in the stage's account. */
export const paymentSmokeRoleName = (namePrefix: string) => `${namePrefix}-smoke`;

/** Prefix the smoke test writes to (source) and reads from (replica). */
export const SMOKE_PREFIX = 'smoke/';

export interface PaymentOperationsStackProps extends PaymentStackProps {
  readonly source: PaymentEnvironment;
  readonly target: PaymentEnvironment;
  readonly dms: PaymentDmsStack;
  readonly logReplication: LogReplication;
  /** Key of the source log bucket. */
  readonly logKey: kms.IKey;
  /** Alias of the replica bucket's key in the replica region. */
  readonly replicaKeyAlias: string;
  /** Account of the pipeline whose smoke test assumes a role here. @default no role */
  readonly smokeTestTrustedAccount?: string;
}

/**
 * How operators and the pipeline act on the stage: the runbook as outputs (DMS start, stop, check
 * and resume; weights; health endpoints) and the smoke-test role with the outputs its script reads.
 * Nothing here changes data: outputs are commands for a person, the role reads and writes smoke/ only.
 */
export class PaymentOperationsStack extends Stack {
  public readonly smokeTestRole?: iam.Role;
  /** Output ids by the environment variable the smoke step sets from them. */
  public readonly smokeOutputs: Record<string, CfnOutput>;

  constructor(scope: Construct, id: string, props: PaymentOperationsStackProps) {
    super(scope, id, props);
    const { config, dms, logReplication } = props;
    const taskArn = dms.replicationTask.taskArn;
    const region = `--region ${this.region}`;
    const dns = config.dns;
    const records = `aws route53 list-resource-record-sets --hosted-zone-id ${dns.hostedZoneId} --query "ResourceRecordSets[?Name=='${dns.recordName.replace(/\.?$/, '.')}'].[SetIdentifier,Weight,HealthCheckId]" --output table`;
    const runbook: Record<string, [string, string]> = {
      RunbookCheckReplication: [
        `aws dms describe-replication-tasks ${region} --filters Name=replication-task-arn,Values=${taskArn} --query "ReplicationTasks[0].[Status,StopReason,ReplicationTaskStats.FullLoadProgressPercent,RecoveryCheckpoint]"`,
        'Status of the forward task (expect running; stopped is not success) and its recovery checkpoint.',
      ],
      RunbookStartReplication: [
        `aws dms start-replication-task ${region} --replication-task-arn ${taskArn} --start-replication-task-type start-replication`,
        'First run only, after the DMS users exist and the target schema was created with pg_dump --schema-only.',
      ],
      RunbookStopReplication: [
        `aws dms stop-replication-task ${region} --replication-task-arn ${taskArn}`,
        'Stops CDC. Record the time and RunbookCdcResumePoint before any switch-over of the source.',
      ],
      RunbookCdcResumePoint: [
        `aws dms describe-replication-tasks ${region} --filters Name=replication-task-arn,Values=${taskArn} --query "ReplicationTasks[0].[RecoveryCheckpoint,ReplicationTaskStats.StopDate]" --output text`,
        'The CDC position to resume from: the checkpoint (PostgreSQL sources resume by checkpoint or LSN, not by time) and the stop time.',
      ],
      RunbookResumeReplication: [
        `aws dms start-replication-task ${region} --replication-task-arn ${taskArn} --start-replication-task-type resume-processing --cdc-start-position <RecoveryCheckpoint>`,
        'Resume CDC from the recorded checkpoint (docs/payment-cutover.md, "Resume CDC").',
      ],
      RunbookCurrentWeights: [
        records,
        'The live weights of the weighted records (owned by the cutover, never by cdk deploy).',
      ],
      RunbookShiftTraffic: [
        `aws route53 change-resource-record-sets --hosted-zone-id ${dns.hostedZoneId} --change-batch file://weights.json`,
        'Shift the stateless tier: UPSERT both weighted records with the next weights (docs/payment-cutover.md, "Shift traffic").',
      ],
      RunbookRollBack: [
        `aws route53 change-resource-record-sets --hosted-zone-id ${dns.hostedZoneId} --change-batch file://weights-source-100.json`,
        'Roll back: source weight 100, target 0; before the database flip nothing else changes.',
      ],
      SourceHealthEndpoint: [props.source.healthUrl, 'Source service health through its load balancer.'],
      TargetHealthEndpoint: [props.target.healthUrl, 'Target service health through its load balancer.'],
    };
    for (const [outputId, [value, description]] of Object.entries(runbook)) {
      new CfnOutput(this, outputId, { value, description });
    }

    // What the smoke step reads, by the environment variable it sets (scripts/payment-smoke).
    const smoke: Record<string, string> = {
      SOURCE_HEALTH_URL: props.source.healthUrl,
      TARGET_HEALTH_URL: props.target.healthUrl,
      REPLICATION_TASK_ARN: taskArn,
      SOURCE_LOG_BUCKET: logReplication.sourceBucket.bucketName,
      REPLICA_BUCKET: logReplication.destinationBucketName,
      REPLICA_REGION: config.replicaRegion,
      REPLICATION_TIME_MINUTES: String(logReplication.replicationTimeMinutes),
    };
    const outputs: Record<string, CfnOutput> = {};
    for (const [name, value] of Object.entries(smoke)) {
      outputs[name] = new CfnOutput(
        this,
        `Smoke${name.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`,
        {
          value,
          description: `Smoke test: ${name}`,
        },
      );
    }

    if (props.smokeTestTrustedAccount) {
      const role = new iam.Role(this, 'SmokeTestRole', {
        roleName: paymentSmokeRoleName(props.namePrefix),
        assumedBy: new iam.AccountPrincipal(props.smokeTestTrustedAccount),
        description:
          'Payment smoke test: writes smoke/ objects to the source logs, reads their replicas, reads the DMS task',
        maxSessionDuration: Duration.hours(1),
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'PutSmokeObjects',
          actions: ['s3:PutObject'],
          resources: [logReplication.sourceBucket.arnForObjects(`${SMOKE_PREFIX}*`)],
        }),
      );
      // SSE-KMS uploads need a data key from the source bucket's key, through S3 only.
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'EncryptSmokeObjects',
          actions: ['kms:GenerateDataKey'],
          resources: [props.logKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${this.region}.amazonaws.com` } },
        }),
      );
      const replicaArn = this.formatArn({
        service: 's3',
        region: '',
        account: '',
        resource: logReplication.destinationBucketName,
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'GetSmokeReplicas',
          actions: ['s3:GetObject'],
          resources: [`${replicaArn}/${SMOKE_PREFIX}*`],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'DecryptSmokeReplicas',
          actions: ['kms:Decrypt'],
          resources: [
            this.formatArn({
              service: 'kms',
              region: config.replicaRegion,
              resource: 'key',
              resourceName: '*',
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ],
          conditions: {
            StringEquals: { 'kms:ViaService': `s3.${config.replicaRegion}.amazonaws.com` },
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': props.replicaKeyAlias },
          },
        }),
      );
      // DescribeReplicationTasks supports no resource-level permissions (see ManagedReplicationTask);
      // the script filters by the task ARN it is given.
      role.addToPolicy(
        new iam.PolicyStatement({ sid: 'DescribeTasks', actions: ['dms:DescribeReplicationTasks'], resources: ['*'] }),
      );
      Validations.of(role).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::${REF}/${SMOKE_PREFIX}*]`,
          reason: 'Smoke-test objects under smoke/ of the source log bucket only.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${REF}/${SMOKE_PREFIX}*]`,
          reason: 'Replicas of the smoke-test objects under smoke/ of the replica bucket only.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::arn:${REF}:kms:${config.replicaRegion}:${REF}:key/*]`,
          reason:
            'The replica key is matched by its alias (kms:ResourceAliases) and used only through S3 in the replica region.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'dms:DescribeReplicationTasks supports no resource-level permissions; it is read-only.',
        },
      );
      this.smokeTestRole = role;
      outputs.SMOKE_ROLE_ARN = new CfnOutput(this, 'SmokeRoleArn', {
        value: role.roleArn,
        description: 'Smoke test: SMOKE_ROLE_ARN',
      });
    }
    this.smokeOutputs = outputs;
  }
}
