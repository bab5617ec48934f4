import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { AssetHashType, DockerImage, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Project root, resolved from this file (lib/constructs) so entries work under tsx and compiled JS alike. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The Lambda runtime every handler uses: the newest Node.js LTS that Lambda supports (docs/adr/0001). */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Where handler bundles are kept between runs, one folder per content hash. */
export const BUNDLE_CACHE_DIR = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'migration-function-bundles');
const LAMBDA_DIR = path.join(PROJECT_ROOT, 'lambda');

/** How every handler is bundled (what NodejsFunction did: minified CJS with source maps, SDK v3 external). */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  // The Lambda runtime ships the SDK v3 clients and the credential chain they use; bundling them would add
  // megabytes per function. Other @aws-sdk packages (lib-dynamodb, util-dynamodb) are small and bundled, so a
  // handler does not depend on which of them the runtime's copy of the SDK happens to hold.
  external: ['@aws-sdk/client-*', '@aws-sdk/credential-provider-node'],
  // zod without its 64 locales (lambda/shared/zod-bundle/index.mjs); relative to the project root (absWorkingDir),
  // so the options, and with them the bundle hash, do not depend on where the project is checked out.
  alias: { zod: './lambda/shared/zod-bundle/index.mjs' },
  logLevel: 'warning',
} as const;

/** {@link BUNDLE_OPTIONS} as esbuild takes them, paths resolved from the project root. */
export function bundleOptions(): esbuild.BuildOptions {
  return { ...BUNDLE_OPTIONS, external: [...BUNDLE_OPTIONS.external], absWorkingDir: PROJECT_ROOT };
}

function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

/** Every handler entry (`lambda/<name>/index.ts`, nested ones included) by handler name. */
export function handlerEntries(): Record<string, string> {
  return Object.fromEntries(
    filesUnder(LAMBDA_DIR)
      .filter((f) => path.basename(f) === 'index.ts' && !f.startsWith(`shared${path.sep}`))
      .map((f) => [path.dirname(f).split(path.sep).join('/'), path.join(LAMBDA_DIR, f)]),
  );
}

/**
 * Content hash of everything the bundles are built from: every file under `lambda/`, the lock file
 * (dependency versions), the esbuild version and the options. Same hash, same bundles.
 */
export function handlerBundleHash(): string {
  // Hashing reads every file; a stat signature tells when that is needed again within a process.
  const lock = path.join(PROJECT_ROOT, 'package-lock.json');
  const signature = [lock, ...filesUnder(LAMBDA_DIR).map((f) => path.join(LAMBDA_DIR, f))]
    .map((f) => {
      const st = fs.statSync(f);
      return `${f}:${st.size}:${st.mtimeMs}`;
    })
    .join('|');
  if (hashMemo?.signature === signature) return hashMemo.hash;
  const hash = createHash('sha256');
  hash.update(JSON.stringify(BUNDLE_OPTIONS));
  hash.update(`esbuild ${esbuild.version}\0`);
  hash.update(fs.readFileSync(lock));
  for (const f of filesUnder(LAMBDA_DIR)) {
    hash.update(`\0${f}\0`);
    hash.update(fs.readFileSync(path.join(LAMBDA_DIR, f)));
  }
  hashMemo = { signature, hash: hash.digest('hex') };
  return hashMemo.hash;
}

let hashMemo: { signature: string; hash: string } | undefined;

let built: { hash: string; dir: string } | undefined;

/**
 * Bundles every handler in one esbuild call into `BUNDLE_CACHE_DIR/<hash>/<handler>/index.js`,
 * unless a bundle of the same content hash is already there; returns that folder. Parallel
 * processes (jest workers) build into their own temporary folder and the first rename wins.
 */
export function handlerBundles(): { hash: string; dir: string } {
  const hash = handlerBundleHash();
  if (built?.hash === hash) return built;
  const dir = path.join(BUNDLE_CACHE_DIR, hash);
  if (!fs.existsSync(path.join(dir, '.complete'))) {
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    const entryPoints = Object.fromEntries(Object.entries(handlerEntries()).map(([n, e]) => [`${n}/index`, e]));
    esbuild.buildSync({ ...bundleOptions(), entryPoints, outdir: tmp });
    fs.writeFileSync(path.join(tmp, '.complete'), hash);
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(path.join(dir, '.complete'))) throw e;
    }
    pruneBundleCache(hash);
  }
  built = { hash, dir };
  return built;
}

/** Keeps the newest few bundle folders so the cache does not grow without bound. */
function pruneBundleCache(keep: string, max = 5): void {
  const dirs = fs
    .readdirSync(BUNDLE_CACHE_DIR)
    .filter((d) => /^[0-9a-f]{64}$/.test(d) && d !== keep)
    .map((d) => ({ d, t: fs.statSync(path.join(BUNDLE_CACHE_DIR, d)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { d } of dirs.slice(max - 1)) fs.rmSync(path.join(BUNDLE_CACHE_DIR, d), { recursive: true, force: true });
}

/**
 * The code of one handler: an asset whose hash is the content hash of its inputs, filled from the
 * bundle cache when CDK stages it. Stacks whose bundling is skipped (`aws:cdk:bundling-stacks`)
 * never build anything.
 */
export function handlerCode(handlerName: string): lambda.Code {
  if (!(handlerName in handlerEntries())) {
    throw new Error(`No handler lambda/${handlerName}/index.ts: create it or fix the handlerName.`);
  }
  return lambda.Code.fromAsset(LAMBDA_DIR, {
    assetHashType: AssetHashType.CUSTOM,
    assetHash: createHash('sha256').update(`${handlerBundleHash()}\0${handlerName}`).digest('hex'),
    bundling: {
      // Never used: local bundling below always succeeds, so no Docker is needed.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
      local: {
        tryBundle(outputDir: string): boolean {
          // Files only: a nested handler's bundle (opensearch-setup/log-transform) is not part of this one.
          const from = path.join(handlerBundles().dir, handlerName);
          for (const f of fs.readdirSync(from, { withFileTypes: true })) {
            if (f.isFile()) fs.copyFileSync(path.join(from, f.name), path.join(outputDir, f.name));
          }
          return true;
        },
      },
    },
  });
}

export interface MigrationFunctionProps extends Omit<
  NodejsFunctionProps,
  'entry' | 'runtime' | 'architecture' | 'logGroup' | 'role' | 'deadLetterQueue' | 'code' | 'bundling'
> {
  /** Folder under `lambda/` holding `index.ts`, e.g. `glue-trigger`. */
  readonly handlerName: string;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Removal of the log group and the dead-letter queue: both are evidence of what failed, so they are kept
   * unless the environment is disposable. @default RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Key for the dead-letter queue. @default SQS-managed encryption
   */
  readonly dlqKey?: kms.IKey;
  /** Metrics namespace for Powertools. @default 'MigrationPlatform' */
  readonly metricsNamespace?: string;
  /**
   * Key for the function's log group (its policy must let CloudWatch Logs use it for this account's log
   * groups). @default encrypted by CloudWatch Logs with a service key
   */
  readonly logKey?: kms.IKey;
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
    const { handlerName, logRetention, logRemovalPolicy, dlqKey, metricsNamespace, environment, logKey, ...rest } =
      props;
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: logRetention,
      ...(logKey ? { encryptionKey: logKey } : {}),
      removalPolicy: logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const dlq = new sqs.Queue(scope, `${id}Dlq`, {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      removalPolicy: logRemovalPolicy ?? RemovalPolicy.RETAIN,
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
      // Bundled once per content hash for every handler (handlerBundles), not once per function.
      code: handlerCode(handlerName),
      handler: 'index.handler',
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      deadLetterQueue: dlq,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: handlerName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace ?? 'MigrationPlatform',
        ...environment,
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

/**
 * A handler's `environment`, checked against the type its `config.ts` exports, e.g.
 * `handlerEnvironment<GlueTriggerEnvironment>({ ... })`: a variable renamed or dropped on either side
 * fails to compile. Optional variables left undefined are not set.
 */
export function handlerEnvironment<E extends object>(
  variables: E & { readonly [K in keyof E]?: string },
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** What a hop construct passes on to its {@link MigrationFunction}. */
export type HopFunctionProps = Pick<MigrationFunctionProps, 'logRetention' | 'logRemovalPolicy' | 'dlqKey'>;
