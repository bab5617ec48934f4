import { RemovalPolicy, StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EnvironmentConfig } from '../config/environment-config';

/** Every MigrationStage stack gets its environment's config; the rest of its props are typed objects. */
export interface MigrationStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** Removal policy of stateful resources (buckets, databases, keys, domains): RETAIN unless the environment is disposable. */
export function statefulRemoval(config: EnvironmentConfig): RemovalPolicy {
  return config.removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

/** Maps a day count to the nearest CloudWatch Logs retention at or above it (the API accepts fixed values only). */
export function logRetention(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays)
    .filter((v): v is number => typeof v === 'number' && v > 0)
    .sort((a, b) => a - b);
  const match = allowed.find((v) => v >= days);
  if (match === undefined) throw new Error(`log retention of ${days} days exceeds the CloudWatch Logs maximum`);
  return match as logs.RetentionDays;
}
