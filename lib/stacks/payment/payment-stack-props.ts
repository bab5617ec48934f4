import { RemovalPolicy, StackProps } from 'aws-cdk-lib';
import { EnvName } from '../../config/environment-config';
import { PaymentConfig } from '../../config/payment-config';

/** Every PaymentCutoverStage stack gets the payment section of its environment and the stage's name prefix. */
export interface PaymentStackProps extends StackProps {
  readonly envName: EnvName;
  readonly config: PaymentConfig;
  /**
   * Prefix of every physical name of the stage (`payment-dev`, `payment-dev-alice` for a sandbox),
   * so names carry the environment and two stages in one account never collide.
   */
  readonly namePrefix: string;
}

/** The two environments of the cutover. */
export type PaymentRole = 'source' | 'target';

/** Removal of stateful resources: non-prod payment environments are disposable (the seeds ask for it). */
export function paymentRemoval(config: PaymentConfig): RemovalPolicy {
  return config.removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

/** PostgreSQL's port, literal so security-group rules never reference another stack's attribute. */
export const POSTGRES_PORT = 5432;

/**
 * Prefix of the cutover's SSM parameters: `/payment/<env>/cutover` for `payment-<env>` (what
 * `npm run cutover -- --env <env>` reads), `/payment/<env>-<sandbox>/cutover` for a sandbox.
 */
export function cutoverParameterPrefix(namePrefix: string): string {
  return `/${namePrefix.replace(/^payment-/, 'payment/')}/cutover`;
}
