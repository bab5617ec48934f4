import { GlueClient } from '@aws-sdk/client-glue';
import { SQSClient } from '@aws-sdk/client-sqs';
import { tracer } from '../shared/powertools';

// Module scope: created once per execution environment and reused across invocations.
export const glue = tracer.captureAWSv3Client(new GlueClient({}));
export const sqs = tracer.captureAWSv3Client(new SQSClient({}));
