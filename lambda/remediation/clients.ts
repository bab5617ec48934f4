import { DatabaseMigrationServiceClient } from '@aws-sdk/client-database-migration-service';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { tracer } from '../shared/powertools';

// Module scope: created once per execution environment and reused across invocations.
export const glue = tracer.captureAWSv3Client(new GlueClient({}));
export const dms = tracer.captureAWSv3Client(new DatabaseMigrationServiceClient({}));
export const sfn = tracer.captureAWSv3Client(new SFNClient({}));
export const s3 = tracer.captureAWSv3Client(new S3Client({}));
export const sns = tracer.captureAWSv3Client(new SNSClient({}));
export const ssm = tracer.captureAWSv3Client(new SSMClient({}));
