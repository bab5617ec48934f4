import { Template } from 'aws-cdk-lib/assertions';
import { synthStage } from '../support/stage-fixture';
import { ResourceRef, resolveResourceRef } from '../support/stage-refs';

type Json = Record<string, any>;

/**
 * Where a resource names a queue as the place its failed deliveries go: EventBridge targets, SQS
 * redrive, Lambda's asynchronous DLQ and on-failure destinations, SNS subscription redrive.
 */
function deadLetterTargets(type: string, props: Json): unknown[] {
  switch (type) {
    case 'AWS::Events::Rule':
      return (props.Targets ?? []).flatMap((t: Json) => (t.DeadLetterConfig?.Arn ? [t.DeadLetterConfig.Arn] : []));
    case 'AWS::SQS::Queue':
    case 'AWS::SNS::Subscription':
      return props.RedrivePolicy?.deadLetterTargetArn ? [props.RedrivePolicy.deadLetterTargetArn] : [];
    case 'AWS::Lambda::Function':
      return props.DeadLetterConfig?.TargetArn ? [props.DeadLetterConfig.TargetArn] : [];
    case 'AWS::Lambda::EventSourceMapping':
    case 'AWS::Lambda::EventInvokeConfig':
      return props.DestinationConfig?.OnFailure?.Destination ? [props.DestinationConfig.OnFailure.Destination] : [];
    default:
      return [];
  }
}

const key = (r: ResourceRef) => `${r.stack}/${r.logicalId}`;

function resources(templates: Record<string, Template>) {
  return Object.entries(templates).flatMap(([stack, t]) =>
    Object.entries(t.toJSON().Resources as Json).map(([id, r]) => ({
      stack,
      id,
      type: r.Type as string,
      props: (r.Properties ?? {}) as Json,
    })),
  );
}

/** Queues that an alarm watches, by the `QueueName` dimension of its metric (or metric math). */
function alarmedQueues(templates: Record<string, Template>): Set<string> {
  const watched = new Set<string>();
  for (const r of resources(templates).filter((x) => x.type === 'AWS::CloudWatch::Alarm')) {
    const dimensions = [
      r.props.Dimensions ?? [],
      ...(r.props.Metrics ?? []).map((m: Json) => m.MetricStat?.Metric?.Dimensions ?? []),
    ].flat();
    for (const d of dimensions.filter((x: Json) => x.Name === 'QueueName')) {
      watched.add(key(resolveResourceRef(d.Value, r.stack, templates, 'Test')));
    }
  }
  return watched;
}

describe.each(['dev', 'prod'] as const)('every dead-letter queue of the migration stage is alarmed (%s)', (env) => {
  const { templates } = synthStage(env);
  const all = resources(templates);
  const dlqs = new Map<string, string>();
  for (const r of all) {
    for (const target of deadLetterTargets(r.type, r.props)) {
      const queue = resolveResourceRef(target, r.stack, templates, 'Test');
      dlqs.set(key(queue), `${r.stack}/${r.id}`);
    }
  }

  it('finds the dead-letter queues of every hop', () => {
    expect(dlqs.size).toBeGreaterThan(5);
    for (const q of dlqs.keys()) {
      const [stack, id] = q.split('/') as [string, string];
      expect((templates[stack]!.toJSON().Resources as Json)[id]?.Type).toBe('AWS::SQS::Queue');
    }
  });

  it('has a depth alarm on each, so a parked message is seen the day it lands', () => {
    const watched = alarmedQueues(templates);
    const unwatched = [...dlqs]
      .filter(([q]) => !watched.has(q))
      .map(([q, user]) => `${q} (dead-letter queue of ${user})`);
    expect(unwatched).toEqual([]);
  });
});
