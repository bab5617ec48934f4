import { Stage } from 'aws-cdk-lib';
import { buildApp } from '../../lib/app-builder';
import { PaymentCutoverStage } from '../../stages/payment-cutover-stage';
import { CDK_JSON_CONTEXT } from '../support/stage-fixture';

describe('buildApp -c stage=payment', () => {
  it('builds only the payment stage of a sandbox, with names carrying environment and sandbox', () => {
    const app = buildApp({
      context: { ...CDK_JSON_CONTEXT, cfnGuard: 'false', sandbox: 'alice', stage: 'payment', env: 'dev' },
    });
    const stages = app.node.children.filter((c): c is Stage => Stage.isStage(c));
    expect(stages.map((s) => s.node.id)).toEqual(['SandboxPayment-alice']);
    const stage = stages[0] as PaymentCutoverStage;
    expect(stage).toBeInstanceOf(PaymentCutoverStage);
    expect(stage.namePrefix).toBe('payment-dev-alice');
    expect(stage.replicationInstanceIdentifier).toBe('payment-dev-alice-replication');
  });

  it('refuses an unknown stage name', () => {
    expect(() =>
      buildApp({ context: { ...CDK_JSON_CONTEXT, cfnGuard: 'false', sandbox: 'alice', stage: 'payments' } }),
    ).toThrow(/stage: expected "migration" or "payment", got "payments"/);
  });
});
