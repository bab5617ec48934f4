import { Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS } from '../../lib/config/environments';
import { synthPaymentStage } from '../support/payment-stage-fixture';
import { synthStage } from '../support/stage-fixture';
import { STATEFUL_TYPES } from './stateful-logical-ids';

type Resource = { Type: string; DeletionPolicy?: string; Properties?: Record<string, unknown> };

/** What a deletion may do to each stateful type in an environment whose `removal` is `retain`. */
function keepsData(r: Resource): boolean {
  const policy = r.DeletionPolicy ?? 'Delete';
  if (r.Type === 'AWS::RDS::DBCluster') return policy === 'Retain' || policy === 'Snapshot';
  // An Aurora instance holds no data of its own: the cluster's storage does, and the cluster is kept.
  if (r.Type === 'AWS::RDS::DBInstance') {
    return policy === 'Retain' || policy === 'Snapshot' || r.Properties?.DBClusterIdentifier !== undefined;
  }
  return policy === 'Retain';
}

/** Stateful resources a stack deletion would lose, in words an engineer can act on. */
function losable(stage: string, templates: Record<string, Template>): string[] {
  return Object.entries(templates).flatMap(([stack, t]) =>
    Object.entries(t.toJSON().Resources as Record<string, Resource>)
      .filter(([, r]) => (STATEFUL_TYPES as readonly string[]).includes(r.Type) && !keepsData(r))
      .map(([id, r]) => `${stage}/${stack}/${id} (${r.Type}): DeletionPolicy ${r.DeletionPolicy ?? 'Delete'}`),
  );
}

// Keys, buckets, tables, databases, domains, secrets, log groups and queues (messages waiting or parked
// after a failure) outlive their stack wherever the environment's config says `removal: 'retain'`.
describe.each(['dev', 'staging', 'prod'] as const)('stateful resources and stack deletion (%s)', (env) => {
  const migrationRetains = ENVIRONMENTS[env].removal === 'retain';
  const paymentRetains = ENVIRONMENTS[env].payment.removal === 'retain';

  it(`${migrationRetains ? 'keeps' : 'may delete'} the MigrationStage's`, () => {
    const lost = losable('migration', synthStage(env).templates);
    if (migrationRetains) expect(lost).toEqual([]);
    else expect(lost.length).toBeGreaterThan(0);
  });
  it(`${paymentRetains ? 'keeps' : 'may delete'} the PaymentCutoverStage's`, () => {
    const lost = losable('payment', synthPaymentStage(env));
    if (paymentRetains) expect(lost).toEqual([]);
    else expect(lost.length).toBeGreaterThan(0);
  });
});
