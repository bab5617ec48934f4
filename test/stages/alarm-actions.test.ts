import { synthStage } from '../support/stage-fixture';
import { resolveResourceRef } from '../support/stage-refs';

type Json = Record<string, any>;

interface Statement {
  Effect: string;
  Principal?: { Service?: string | string[] };
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const services = (s: Statement) => [s.Principal?.Service ?? []].flat();
const actions = (s: Statement) => [s.Action].flat();

function allowsCloudWatch(statements: Statement[], needed: string[]): boolean {
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      services(s).includes('cloudwatch.amazonaws.com') &&
      needed.every((n) => actions(s).some((a) => a === n || (a.endsWith('*') && n.startsWith(a.slice(0, -1))))) &&
      s.Condition?.StringEquals?.['aws:SourceAccount'] !== undefined &&
      JSON.stringify(s.Condition?.ArnLike?.['aws:SourceArn'] ?? '').includes(':alarm:'),
  );
}

describe.each(['dev', 'prod'] as const)('every alarm can notify its action topics (%s)', (env) => {
  const { templates } = synthStage(env);
  const alarms = Object.entries(templates).flatMap(([stack, t]) =>
    Object.entries(t.findResources('AWS::CloudWatch::Alarm')).map(([id, r]) => ({
      stack,
      id,
      props: (r as Json).Properties as Json,
    })),
  );

  it('finds the alarms of the stage', () => {
    expect(alarms.length).toBeGreaterThan(10);
  });

  it('lets cloudwatch.amazonaws.com publish (topic policy) and encrypt (key policy), scoped to this account and its alarms', () => {
    const problems: string[] = [];
    for (const alarm of alarms) {
      const targets = ['AlarmActions', 'OKActions', 'InsufficientDataActions'].flatMap((k) => alarm.props[k] ?? []);
      for (const action of targets) {
        const topic = resolveResourceRef(action, alarm.stack, templates, 'Test');
        const resources = templates[topic.stack]!.toJSON().Resources as Json;
        const what = `${alarm.stack}/${alarm.id} -> ${topic.stack}/${topic.logicalId}`;
        if (resources[topic.logicalId]?.Type !== 'AWS::SNS::Topic') {
          problems.push(`${what}: not an SNS topic`);
          continue;
        }
        const topicPolicies = Object.values(resources).filter(
          (r: Json) =>
            r.Type === 'AWS::SNS::TopicPolicy' &&
            JSON.stringify(r.Properties.Topics).includes(JSON.stringify({ Ref: topic.logicalId })),
        );
        // Without a topic policy SNS's default one applies; with one, it must name CloudWatch.
        const topicStatements = topicPolicies.flatMap(
          (p: Json) => p.Properties.PolicyDocument.Statement as Statement[],
        );
        if (topicPolicies.length > 0 && !allowsCloudWatch(topicStatements, ['sns:Publish'])) {
          problems.push(`${what}: topic policy does not let cloudwatch.amazonaws.com publish`);
        }
        const keyRef = resources[topic.logicalId].Properties.KmsMasterKeyId as Json | undefined;
        if (keyRef) {
          const keyId = keyRef['Fn::GetAtt']?.[0] ?? keyRef.Ref;
          const key = resources[keyId];
          if (!key) {
            problems.push(`${what}: key ${JSON.stringify(keyRef)} is not in the topic's stack`);
          } else if (!allowsCloudWatch(key.Properties.KeyPolicy.Statement, ['kms:Decrypt', 'kms:GenerateDataKey'])) {
            problems.push(`${what}: key policy of ${keyId} does not let cloudwatch.amazonaws.com use it`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
