import * as path from 'node:path';
import { ArnFormat, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeGrantActionGroups, REF } from '../compliance/nag';
import { jobRunQueuingFor } from '../config/burst-sizing';
import { PROJECT_ROOT } from '../constructs/migration-function';
import { deploymentSuffix } from '../constructs/physical-names';
import { logRetention, MigrationStackProps } from './migration-stack-props';
import { DATA_PREFIXES } from './storage-stack';

/** Glue 5.1 runs Python 3.11, the same Python the validation core is tested with here. */
export const GLUE_VERSION = glue.GlueVersion.V5_1;

export interface GlueStackProps extends MigrationStackProps {
  readonly dataBucket: s3.IBucket;
  readonly dataKey: kms.IKey;
  readonly resultsTopic: sns.ITopic;
  /** Log group removal. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The validation job: reads one object version under `incoming/`, validates it against its dataset
 * contract, writes the report under `reports/`, copies the object to `validated/` or `quarantine/`
 * and publishes a summary. Script, core package and contracts are CDK assets.
 */
export class GlueStack extends Stack {
  /** The stage's Glue database; nothing writes tables into it yet (the job reads and writes S3 objects only). */
  public readonly database: glue.Database;
  public readonly job: glue.PySparkEtlJob;
  public readonly role: iam.Role;
  /** Driver and Glue-logger lines of every run (`<prefix>/error`). */
  public readonly logGroup: logs.LogGroup;
  /** stdout and stderr of every run (`<prefix>/output`). */
  public readonly outputLogGroup: logs.LogGroup;
  /** Value of `--custom-logGroup-prefix`, derived from the stack name so stages never share groups. */
  public readonly logGroupPrefix: string;

  constructor(scope: Construct, id: string, props: GlueStackProps) {
    super(scope, id, props);
    const { config, dataBucket, dataKey } = props;
    const glueDir = path.join(PROJECT_ROOT, 'glue');

    this.database = new glue.Database(this, 'Database', {
      description: `Migration datasets (${config.envName})`,
    });

    // Glue requires a name; the deployment suffix keeps a re-created stack clear of a lingering one.
    const securityConfiguration = new glue.SecurityConfiguration(this, 'SecurityConfiguration', {
      securityConfigurationName: Fn.join('-', [this.stackName, 'security', deploymentSuffix(this)]),
      s3Encryption: glue.S3Encryption.kms(dataKey),
      cloudWatchEncryption: glue.CloudWatchEncryption.kms(dataKey),
      jobBookmarksEncryption: glue.JobBookmarksEncryption.clientSideKms(dataKey),
    });

    // Glue 5 writes driver and Glue-logger lines to <prefix>/error and stdout/stderr to
    // <prefix>/output (--custom-logGroup-prefix, "Logging for AWS Glue jobs"). The groups are created
    // here so they carry retention and the data key, and so the audit trail can subscribe to them.
    // The prefix carries the deployment suffix: the groups are retained outside dev, and a re-created
    // stack must not meet them ("already exists"). Glue only needs the prefix, not a fixed value.
    this.logGroupPrefix = Fn.join('', ['/aws-glue/jobs/', this.stackName, '/', deploymentSuffix(this)]);
    const jobLogGroup = (id: string, suffix: 'error' | 'output') =>
      new logs.LogGroup(this, id, {
        logGroupName: Fn.join('', [this.logGroupPrefix, '/', suffix]),
        retention: logRetention(config.logRetentionDays),
        encryptionKey: dataKey,
        removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      });
    this.logGroup = jobLogGroup('JobErrorLogs', 'error');
    this.outputLogGroup = jobLogGroup('JobOutputLogs', 'output');

    this.role = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Validation job: reads incoming/, writes reports/, validated/, quarantine/',
    });
    // Object access by prefix: read the incoming version, write the three outputs.
    dataBucket.grantRead(this.role, `${DATA_PREFIXES.incoming}*`);
    for (const prefix of [DATA_PREFIXES.reports, DATA_PREFIXES.validated, DATA_PREFIXES.quarantine]) {
      dataBucket.grantPut(this.role, `${prefix}*`);
    }
    // The job confirms each copy with HeadObject before it reports or deletes anything.
    for (const prefix of [DATA_PREFIXES.validated, DATA_PREFIXES.quarantine]) {
      dataBucket.grantRead(this.role, `${prefix}*`);
    }
    props.resultsTopic.grantPublish(this.role);
    // Continuous logs and metrics of the job itself.
    this.logGroup.grantWrite(this.role);
    this.outputLogGroup.grantWrite(this.role);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:AssociateKmsKey', 'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [
          this.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws-glue/*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );
    dataKey.grantEncryptDecrypt(this.role);

    const contracts = new s3assets.Asset(this, 'Contracts', { path: path.join(glueDir, 'contracts') });
    contracts.grantRead(this.role);
    // A directory asset is zipped with the package at its root, which is what --extra-py-files wants.
    const corePackage = new s3assets.Asset(this, 'ValidationCore', {
      path: path.join(glueDir, 'src'),
      exclude: ['**/__pycache__', '**/*.pyc'],
    });
    corePackage.grantRead(this.role);

    this.job = new glue.PySparkEtlJob(this, 'ValidationJob', {
      description: 'Validates a batch of objects under incoming/ against their dataset contracts',
      role: this.role,
      glueVersion: GLUE_VERSION,
      script: glue.Code.fromAsset(path.join(glueDir, 'jobs', 'validate_object.py')),
      extraPythonFiles: [glue.Code.fromBucket(corePackage.bucket, corePackage.s3ObjectKey)],
      workerConfiguration: {
        workerType: glue.WorkerType[workerTypeKey(config.glue.workerType)],
        numberOfWorkers: config.glue.numberOfWorkers,
      },
      maxRetries: config.glue.maxRetries,
      maxConcurrentRuns: config.glue.maxConcurrentRuns,
      // Runs wait in Glue (WAITING) instead of being refused when the job is full; only without Glue retries.
      jobRunQueuingEnabled: jobRunQueuingFor(config.glue),
      timeout: Duration.minutes(60),
      securityConfiguration,
      enableMetrics: true,
      enableObservabilityMetrics: true,
      defaultArguments: {
        // The job reads S3 through boto3, which bookmarks do not track; each run
        // is told which object version to validate (docs/glue.md).
        '--job-bookmark-option': 'job-bookmark-disable',
        '--custom-logGroup-prefix': this.logGroupPrefix,
        '--results_topic_arn': props.resultsTopic.topicArn,
        '--contracts_uri': contracts.s3ObjectUrl,
        '--reports_prefix': DATA_PREFIXES.reports,
        '--validated_prefix': DATA_PREFIXES.validated,
        '--quarantine_prefix': DATA_PREFIXES.quarantine,
      },
    });

    acknowledgeGrantActionGroups(this.role, 'the job prefixes of the data bucket, the asset objects and the data key');
    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'cloudwatch:PutMetricData has no resource type; it is limited to the Glue namespace by condition.',
      },
      ...['incoming', 'reports', 'validated', 'quarantine'].map((prefix) => ({
        id: `AwsSolutions-IAM5[Resource::${REF}/${prefix}/*]`,
        reason: `Objects under ${prefix}/ of the data bucket: the prefix the job reads (incoming) or writes.`,
      })),
      {
        id: `AwsSolutions-IAM5[Resource::arn:aws:logs:${REF}:log-group:/aws-glue/*]`,
        reason:
          'Glue continuous logging and its KMS association use log groups under /aws-glue/ that Glue names per run.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-${REF}-assets-${REF}/*]`,
        reason:
          'Read access to the CDK asset objects (script, core package, contracts); the asset keys are content hashes.',
      },
    );

    new CfnOutput(this, 'ValidationJobName', { value: this.job.jobName });
  }
}

/** Maps `G.1X` to the `WorkerType` enum key `G_1X`. */
function workerTypeKey(t: string): keyof typeof glue.WorkerType {
  const key = t.replace('.', '_') as keyof typeof glue.WorkerType;
  if (!(key in glue.WorkerType)) throw new Error(`glue.workerType ${t} is not a Glue worker type`);
  return key;
}
