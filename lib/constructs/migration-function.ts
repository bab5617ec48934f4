import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Project root, resolved from this file (lib/constructs) so entries work under tsx and compiled JS alike. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The Lambda runtime every handler uses: the newest Node.js LTS that Lambda supports (docs/adr/0001). */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface MigrationFunctionProps extends Omit<
  NodejsFunctionProps,
  'entry' | 'runtime' | 'architecture' | 'logGroup' | 'role' | 'deadLetterQueue'
> {
  /** Folder under `lambda/` holding `index.ts`, e.g. `glue-trigger`. */
  readonly handlerName: string;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** Log group removal; log groups are evidence, so they are kept unless the environment is disposable. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Key for the dead-letter queue. @default SQS-managed encryption
   */
  readonly dlqKey?: kms.IKey;
  /** Metrics namespace for Powertools. @default 'MigrationPlatform' */
  readonly metricsNamespace?: string;
}

/**
 * A Node.js handler with the project's defaults: current runtime, ARM64, X-Ray tracing,
 * source maps, an explicit log group with retention, a KMS-encrypted dead-letter queue for
 * asynchronous invocations, and a role that starts with nothing but write access to its own log group.
 */
export class MigrationFunction extends NodejsFunction {
  /** Receives asynchronous invocations that failed after Lambda's retries. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The function's own log group (the base class's `logGroup` accessor returns the same group). */
  public readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: MigrationFunctionProps) {
    const { handlerName, logRetention, logRemovalPolicy, dlqKey, metricsNamespace, environment, bundling, ...rest } =
      props;
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: logRetention,
      removalPolicy: logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const dlq = new sqs.Queue(scope, `${id}Dlq`, {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      ...(dlqKey
        ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: dlqKey }
        : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${handlerName} handler`,
    });
    super(scope, id, {
      timeout: Duration.seconds(30),
      memorySize: 256,
      ...rest,
      entry: path.join(PROJECT_ROOT, 'lambda', handlerName, 'index.ts'),
      handler: 'handler',
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      deadLetterQueue: dlq,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      projectRoot: PROJECT_ROOT,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: handlerName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace ?? 'MigrationPlatform',
        ...environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        format: OutputFormat.CJS,
        // The Lambda runtime ships SDK v3; bundling it would add megabytes per function.
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
        ...bundling,
      },
    });
    logGroup.grantWrite(role);
    // Lambda sends failed async events to the DLQ with the function's role; a KMS-encrypted queue
    // also needs the key (sqs:SendMessage alone is what Lambda adds).
    dlq.grantSendMessages(role);
    if (rest.vpc) {
      // The role is ours, so the ENI permissions CDK would attach to a role it creates are added here.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'LambdaVpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    Validations.of(dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the function; a queue of its own would hide failures. Data-path handler DLQs are alarmed in MonitoringStack; custom-resource handlers also fail their deployment.',
    });
    this.deadLetterQueue = dlq;
    this.functionLogGroup = logGroup;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) and, for functions in a VPC, the ENI actions Lambda needs support no resource-level permissions.',
    });
    if (dlqKey) {
      Validations.of(role).acknowledge(
        ...['Action::kms:ReEncrypt*', 'Action::kms:GenerateDataKey*'].map((finding) => ({
          id: `AwsSolutions-IAM5[${finding}]`,
          reason: 'Added by the dead-letter queue grant for its KMS key; scoped to that key.',
        })),
      );
    }
  }
}
