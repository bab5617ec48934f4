import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EnvName, EnvironmentConfig } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import type { PaymentCutoverStage } from '../../stages/payment-cutover-stage';
import { offerSharedSynth, sharedSynth } from './shared-synth';
import { newApp } from './stage-fixture';

/** The eight stacks of a PaymentCutoverStage, by construct id. */
export const PAYMENT_STACK_IDS = [
  'Network',
  'Replica',
  'Source',
  'Target',
  'Dms',
  'Operations',
  'Monitoring',
  'Cutover',
] as const;
export type PaymentStackId = (typeof PAYMENT_STACK_IDS)[number];

/** Account the fixture's pipeline smoke test would come from. */
export const PAYMENT_PIPELINE_ACCOUNT = '111111111111';

/** A payment stage built in this process: the construct tree and each stack's template. */
export interface LivePaymentStage {
  readonly stage: PaymentCutoverStage;
  readonly t: Record<PaymentStackId, Template>;
}

const sharedKey = (env: EnvName) => `payment-stage-${env}`;
const toJson = (t: Record<string, Template>) =>
  Object.fromEntries(Object.entries(t).map(([id, x]) => [id, x.toJSON()]));

/**
 * Builds and synthesizes the `Pay` PaymentCutoverStage of `config` with its nag packs on (synthesis throws on
 * any unacknowledged finding).
 */
export function buildPaymentStage(config: EnvironmentConfig): LivePaymentStage {
  // Loaded only when built: a suite served from the shared folder never pays for the import.
  type StageModule = typeof import('../../stages/payment-cutover-stage');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PaymentCutoverStage } = require('../../stages/payment-cutover-stage') as StageModule;
  const app = newApp();
  const stage = new PaymentCutoverStage(app, 'Pay', { config, smokeTestTrustedAccount: PAYMENT_PIPELINE_ACCOUNT });
  app.synth();
  const t = Object.fromEntries(
    PAYMENT_STACK_IDS.map((id) => [id, Template.fromStack(stage.node.findChild(id) as Stack)]),
  ) as Record<PaymentStackId, Template>;
  return { stage, t };
}

const committed = (env: EnvName) => loadEnvironmentConfig(env, () => undefined, {});

/**
 * The templates of the `Pay` PaymentCutoverStage of `env` (committed config, no account, nag packs
 * on), synthesized once per test run and shared by the suites that only read templates
 * (test/support/shared-synth.ts).
 */
export function synthPaymentStage(env: EnvName): Record<string, Template> {
  const json = sharedSynth(sharedKey(env), () => toJson(buildPaymentStage(committed(env)).t));
  return Object.fromEntries(Object.entries(json).map(([id, t]) => [id, Template.fromJSON(t)]));
}

/**
 * The same stage built in this process, for a suite that asserts on the construct tree. Its templates are
 * offered to the shared folder, so {@link synthPaymentStage} does not build the stage a second time.
 */
export function synthPaymentStageLive(env: EnvName): LivePaymentStage {
  const live = buildPaymentStage(committed(env));
  offerSharedSynth(sharedKey(env), () => toJson(live.t));
  return live;
}
