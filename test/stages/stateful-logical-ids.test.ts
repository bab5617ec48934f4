import { Template } from 'aws-cdk-lib/assertions';
import { synthPaymentStage } from '../support/payment-stage-fixture';
import { synthStage } from '../support/stage-fixture';
import { FROZEN_STATEFUL_IDS, STATEFUL_TYPES } from './stateful-logical-ids';

/**
 * A stateful resource whose logical id changes is, to CloudFormation, a new resource: it creates an
 * empty one, and the old one is deleted or, being RETAIN, orphaned with its data (docs/adr/0021).
 * The frozen list says which ids exist; moving one must be a decision, made by editing that list.
 */
function statefulIds(t: Template): string[] {
  const resources = t.toJSON().Resources as Record<string, { Type: string }>;
  return Object.entries(resources)
    .filter(([, r]) => (STATEFUL_TYPES as readonly string[]).includes(r.Type))
    .map(([id, r]) => `${r.Type} ${id}`)
    .sort();
}

/** What moved, in words an engineer can act on; empty when nothing did. */
function movedIds(stage: string, actual: Record<string, Template>, frozen: Record<string, readonly string[]>) {
  const problems: string[] = [];
  for (const stack of new Set([...Object.keys(actual), ...Object.keys(frozen)])) {
    const now = new Set(actual[stack] ? statefulIds(actual[stack]) : []);
    const was = new Set(frozen[stack] ?? []);
    for (const id of was)
      if (!now.has(id)) problems.push(`${stage}/${stack}: ${id} is gone (replaced or deleted on deploy)`);
    for (const id of now) if (!was.has(id)) problems.push(`${stage}/${stack}: ${id} is new (not in the frozen list)`);
  }
  return problems;
}

describe.each(['dev', 'staging', 'prod'] as const)('stateful logical ids (%s)', (env) => {
  it('of the MigrationStage match the frozen list', () => {
    expect(movedIds('migration', synthStage(env).templates, FROZEN_STATEFUL_IDS.migration)).toEqual([]);
  });
  it('of the PaymentCutoverStage match the frozen list', () => {
    expect(movedIds('payment', synthPaymentStage(env), FROZEN_STATEFUL_IDS.payment)).toEqual([]);
  });
});

describe('the frozen-id check', () => {
  const { templates } = synthStage('dev');
  it('reports a renamed stateful resource as one gone and one new', () => {
    const json = templates.Storage!.toJSON();
    const [id] = Object.entries(json.Resources as Record<string, { Type: string }>).find(
      ([, r]) => r.Type === 'AWS::S3::Bucket',
    )!;
    const renamed = { ...json, Resources: { ...json.Resources } };
    renamed.Resources[`${id}Moved`] = renamed.Resources[id];
    delete renamed.Resources[id];
    expect(
      movedIds(
        'migration',
        { Storage: Template.fromJSON(renamed) },
        { Storage: FROZEN_STATEFUL_IDS.migration.Storage! },
      ),
    ).toEqual([
      `migration/Storage: AWS::S3::Bucket ${id} is gone (replaced or deleted on deploy)`,
      `migration/Storage: AWS::S3::Bucket ${id}Moved is new (not in the frozen list)`,
    ]);
  });
  it('ignores resources that hold no state', () => {
    const json = templates.Storage!.toJSON();
    const withTopic = {
      ...json,
      Resources: { ...json.Resources, AnyTopic: { Type: 'AWS::SNS::Topic', Properties: {} } },
    };
    expect(
      movedIds(
        'migration',
        { Storage: Template.fromJSON(withTopic) },
        { Storage: FROZEN_STATEFUL_IDS.migration.Storage! },
      ),
    ).toEqual([]);
  });
});
