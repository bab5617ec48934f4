import { SFNClient } from '@aws-sdk/client-sfn';
import { tracer } from '../shared/powertools';

// Module scope: created once per execution environment and reused across invocations.
export const sfn = tracer.captureAWSv3Client(new SFNClient({}));
