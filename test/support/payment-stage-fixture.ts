import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EnvName } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { sharedSynth } from './shared-synth';
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

/** Account the fixture's pipeline smoke test would come from. */
export const PAYMENT_PIPELINE_ACCOUNT = '111111111111';

/**
 * The templates of the `Pay` PaymentCutoverStage of `env` (committed config, no account, nag packs
 * on), synthesized once per test run and shared by the suites that only read templates
 * (test/support/shared-synth.ts).
 */
export function synthPaymentStage(env: EnvName): Record<string, Template> {
  const json = sharedSynth(`payment-stage-${env}`, () => {
    // Loaded only when built: a suite served from the shared folder never pays for the import.
    type StageModule = typeof import('../../stages/payment-cutover-stage');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PaymentCutoverStage } = require('../../stages/payment-cutover-stage') as StageModule;
    const app = newApp();
    const config = loadEnvironmentConfig(env, () => undefined, {});
    const stage = new PaymentCutoverStage(app, 'Pay', { config, smokeTestTrustedAccount: PAYMENT_PIPELINE_ACCOUNT });
    app.synth();
    return Object.fromEntries(
      PAYMENT_STACK_IDS.map((id) => [id, Template.fromStack(stage.node.findChild(id) as Stack).toJSON()]),
    );
  });
  return Object.fromEntries(Object.entries(json).map(([id, t]) => [id, Template.fromJSON(t)]));
}
