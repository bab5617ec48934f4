import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One Logger, Metrics and Tracer per handler module, created at module scope so they live across
 * invocations. Service name and namespace come from POWERTOOLS_* variables set by MigrationFunction.
 */
export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();
