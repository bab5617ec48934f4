import { loadEnvironmentConfig } from '../../lib/config/load';
import { LOG_DELIVERY_POLICY_NAME, SERVICE_LOG_PREFIXES } from '../../lib/constructs/shared-log-delivery-policy';
import { MigrationStage } from '../../stages/migration-stage';
import { newApp, resourcesOf, synthStage } from '../support/stage-fixture';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

type Templates = Record<string, Template>;

/** The policyName in an AwsCustomResource call (a JSON string, or a Fn::Join of one when it holds tokens). */
function policyNameOf(call: unknown): string {
  const m = /policyName\\*":\\*"([\w-]+)/.exec(JSON.stringify(call));
  if (!m) throw new Error(`no policyName in ${JSON.stringify(call)}`);
  return m[1]!;
}

/** Names of the account-level CloudWatch Logs resource policies a stage's templates write. */
function logsResourcePolicyNames(templates: Templates): string[] {
  return Object.values(templates).flatMap((t) => [
    ...resourcesOf(t, 'AWS::Logs::ResourcePolicy').map(([id, p]) => String(p.PolicyName ?? id)),
    ...resourcesOf(t, 'Custom::LogDeliveryPolicy').map(([, p]) => policyNameOf(p.Create ?? p.Update)),
    // Any other custom resource that calls PutResourcePolicy would be missed above: fail on it.
    ...Object.values(t.toJSON().Resources as Record<string, { Type: string; Properties?: unknown }>)
      .filter((r) => r.Type !== 'Custom::LogDeliveryPolicy' && r.Type.startsWith('Custom::'))
      .filter((r) => /putResourcePolicy/i.test(JSON.stringify(r.Properties ?? {})))
      .map((r) => `unexpected ${r.Type}`),
  ]);
}

describe('CloudWatch Logs resource policies (10 per account and region)', () => {
  const dev = synthStage('dev').templates;

  it('are one shared, named policy per stage, written by NetworkStack only', () => {
    expect(logsResourcePolicyNames(dev)).toEqual([LOG_DELIVERY_POLICY_NAME]);
    expect(resourcesOf(dev.Network!, 'Custom::LogDeliveryPolicy')).toHaveLength(1);
  });

  it('stay one for dev plus several sandboxes in the same account', () => {
    const app = newApp();
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    const env = { account: '111111111111', region: config.region };
    const stages = ['Dev', 'Sandbox-alice', 'Sandbox-bob'].map(
      (id) => new MigrationStage(app, id, { config, env, nagChecks: false }),
    );
    app.synth();
    const names = new Set<string>();
    const documents = new Set<string>();
    for (const stage of stages) {
      const templates: Templates = {};
      for (const c of stage.node.children) if (c instanceof Stack) templates[c.node.id] = Template.fromStack(c);
      for (const n of logsResourcePolicyNames(templates)) names.add(n);
      for (const [, p] of resourcesOf(templates.Network!, 'Custom::LogDeliveryPolicy'))
        documents.add(JSON.stringify(p.Create));
    }
    expect([...names]).toEqual([LOG_DELIVERY_POLICY_NAME]);
    // Same document from every stage: each write leaves the others' log groups allowed.
    expect(documents.size).toBe(1);
  });

  it('covers the log groups OpenSearch and DataSync write to', () => {
    const named = (t: Template) =>
      resourcesOf(t, 'AWS::Logs::LogGroup').map(([, p]) => JSON.stringify(p.LogGroupName ?? ''));
    const domainGroups = named(dev.Logging!).filter((n) => n.includes(SERVICE_LOG_PREFIXES.openSearch));
    expect(domainGroups).toHaveLength(4);
    expect(named(dev.DataSync!).filter((n) => n.includes(SERVICE_LOG_PREFIXES.dataSync))).toHaveLength(1);
    const [[, policy]] = resourcesOf(dev.Network!, 'Custom::LogDeliveryPolicy') as [[string, Record<string, any>]];
    const create = JSON.stringify(policy.Create);
    expect(create).toContain(`${SERVICE_LOG_PREFIXES.openSearch}*`);
    expect(create).toContain(`${SERVICE_LOG_PREFIXES.dataSync}*`);
    expect(create).toContain('es.amazonaws.com');
    expect(create).toContain('datasync.amazonaws.com');
    expect(create).not.toMatch(/"onDelete"|"Delete"/);
  });
});
