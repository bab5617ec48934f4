import { App, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { powertoolsMetric, ruleMatchedEvents } from '../../../lib/constructs/monitoring/metrics';

// The helpers create no resources (so there is nothing for cdk-nag to check); what matters is that each metric
// names exactly what CloudWatch publishes.
const stack = new Stack(new App(), 'Metrics', { env: { account: '111111111111', region: 'eu-west-1' } });

describe('ruleMatchedEvents', () => {
  it("counts an EventBridge rule's matches under the rule's own name, per 5 minutes by default", () => {
    const rule = events.Rule.fromEventRuleArn(stack, 'Rule', 'arn:aws:events:eu-west-1:111111111111:rule/glue-failed');
    const metric = ruleMatchedEvents(rule);
    expect([metric.namespace, metric.metricName, metric.dimensions, metric.statistic, metric.period]).toEqual([
      'AWS/Events',
      'MatchedEvents',
      { RuleName: 'glue-failed' },
      'Sum',
      Duration.minutes(5),
    ]);
    expect(ruleMatchedEvents(rule, Duration.minutes(1)).period.toSeconds()).toBe(60);
  });
});

describe('powertoolsMetric', () => {
  const source = { namespace: 'MigrationPlatform', service: 'glue-trigger' };

  it('names the namespace and the Powertools service dimension, per minute by default', () => {
    const metric = powertoolsMetric(source, 'GlueRunsWaiting', { statistic: 'Maximum', label: 'runs waiting' });
    expect([metric.namespace, metric.metricName, metric.dimensions, metric.statistic, metric.label]).toEqual([
      'MigrationPlatform',
      'GlueRunsWaiting',
      { service: 'glue-trigger' },
      'Maximum',
      'runs waiting',
    ]);
    expect(metric.period.toSeconds()).toBe(60);
  });

  it('takes another period when asked', () => {
    const metric = powertoolsMetric(source, 'ObjectsStarted', {
      statistic: 'Sum',
      label: 'objects',
      period: Duration.minutes(5),
    });
    expect(metric.period.toSeconds()).toBe(300);
  });
});
