import { ConfigError, ContextReader, str } from './load';

/** Where the pipeline lives and what it watches. */
export interface PipelineConfig {
  /** Account of the pipeline (tooling account). Unset: synth only. */
  readonly account?: string;
  readonly region: string;
  /** `owner/repo` of the GitHub (or other CodeStar-connection) repository. */
  readonly repository: string;
  readonly branch: string;
  /** ARN of the CodeStar (CodeConnections) connection to the repository host. */
  readonly connectionArn: string;
  /** Who is told about failures and pending approvals. */
  readonly notificationEmail?: string;
}

const PLACEHOLDER_CONNECTION =
  'arn:aws:codeconnections:us-west-2:000000000000:connection/00000000-0000-0000-0000-000000000000';

/**
 * Reads the pipeline's settings from context (`-c pipelineAccount=…`, `-c repository=owner/repo`,
 * `-c connectionArn=…`) or the environment (`PIPELINE_ACCOUNT`, `REPOSITORY`, `CONNECTION_ARN`).
 * Without them `cdk synth` still works offline, with an all-zero connection that `assertPipelineDeployable` refuses.
 */
export function loadPipelineConfig(ctx: ContextReader, env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  const get = (key: string, envKey: string) => str(ctx(key)) ?? str(env[envKey]);
  const account = get('pipelineAccount', 'PIPELINE_ACCOUNT');
  const notificationEmail = get('pipelineNotificationEmail', 'PIPELINE_NOTIFICATION_EMAIL');
  const c: PipelineConfig = {
    region: get('pipelineRegion', 'PIPELINE_REGION') ?? 'us-west-2',
    repository: get('repository', 'REPOSITORY') ?? 'example-org/cdk-migration-platform',
    branch: get('branch', 'BRANCH') ?? 'main',
    connectionArn: get('connectionArn', 'CONNECTION_ARN') ?? PLACEHOLDER_CONNECTION,
    ...(account ? { account } : {}),
    ...(notificationEmail ? { notificationEmail } : {}),
  };
  const problems: string[] = [];
  if (c.account !== undefined && !/^\d{12}$/.test(c.account))
    problems.push(`pipeline.account: expected a 12-digit account id, got ${JSON.stringify(c.account)}`);
  if (!/^[\w.-]+\/[\w.-]+$/.test(c.repository))
    problems.push(`pipeline.repository: expected owner/repo, got ${JSON.stringify(c.repository)}`);
  if (
    !/^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[\w-]+$/.test(
      c.connectionArn,
    )
  ) {
    problems.push(
      `pipeline.connectionArn: expected a CodeStar/CodeConnections connection ARN, got ${JSON.stringify(c.connectionArn)}`,
    );
  }
  if (problems.length) throw new ConfigError(problems);
  return c;
}

/** What keeps a synthesized pipeline from being deployable; empty when nothing does. */
export function pipelineDeployProblems(c: PipelineConfig): string[] {
  const problems: string[] = [];
  if (!c.account)
    problems.push('pipeline.account: set -c pipelineAccount=<id> or PIPELINE_ACCOUNT to deploy the pipeline');
  if (c.connectionArn === PLACEHOLDER_CONNECTION)
    problems.push(
      'pipeline.connectionArn: set -c connectionArn=<arn> or CONNECTION_ARN (create the connection in the console first)',
    );
  return problems;
}

/** A pipeline deploy needs a real account and connection; synth does not. */
export function assertPipelineDeployable(c: PipelineConfig): void {
  const problems = pipelineDeployProblems(c);
  if (problems.length) throw new ConfigError(problems);
}
