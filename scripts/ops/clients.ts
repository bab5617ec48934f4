import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DatabaseMigrationServiceClient } from '@aws-sdk/client-database-migration-service';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';

/** The AWS edges of the CLI: one client per service, in the stage's region (the pipeline's for CodePipeline). */
export interface OpsClients {
  readonly cloudFormation: CloudFormationClient;
  readonly ssm: SSMClient;
  readonly dms: DatabaseMigrationServiceClient;
  readonly cloudWatch: CloudWatchClient;
  readonly sfn: SFNClient;
  readonly sts: STSClient;
  /** Clients in the pipeline's account and region (the tooling account). */
  readonly pipeline: { readonly cloudFormation: CloudFormationClient; readonly codePipeline: CodePipelineClient };
}

export function createClients(region: string, pipelineRegion: string): OpsClients {
  const config = { region };
  return {
    cloudFormation: new CloudFormationClient(config),
    ssm: new SSMClient(config),
    dms: new DatabaseMigrationServiceClient(config),
    cloudWatch: new CloudWatchClient(config),
    sfn: new SFNClient(config),
    sts: new STSClient(config),
    pipeline: {
      cloudFormation: new CloudFormationClient({ region: pipelineRegion }),
      codePipeline: new CodePipelineClient({ region: pipelineRegion }),
    },
  };
}
