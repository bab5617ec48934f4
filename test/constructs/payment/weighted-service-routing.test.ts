import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsSolutionsChecks } from 'cdk-nag';
import { handler } from '../../../lambda/weighted-routing';
import {
  WeightedServiceRouting,
  type WeightedServiceRoutingProps,
} from '../../../lib/constructs/payment/weighted-service-routing';
import { answers, everyHealthState, type ModelRecord } from '../../support/route53-weighted';
import {
  analyseHandler,
  missingActions,
  requiredActions,
  statementsForRole,
  type TemplateJson,
} from '../../support/sdk-actions';

const ENV = { account: '111111111111', region: 'us-east-1' };

function build(overrides: Partial<WeightedServiceRoutingProps> = {}, internal = false) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Routing', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const alb = (id: string, internetFacing = true) =>
    new elbv2.ApplicationLoadBalancer(stack, id, { vpc, internetFacing });
  const zone = new route53.PublicHostedZone(stack, 'Zone', { zoneName: 'example.com' });
  const workflowRole = new iam.Role(stack, 'WorkflowRole', {
    assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
  });
  const routing = new WeightedServiceRouting(stack, 'Routing', {
    hostedZone: zone,
    recordName: 'pay',
    source: { loadBalancer: alb('SourceAlb'), healthCheckPath: '/health', protocol: 'HTTPS' },
    target: { loadBalancer: alb('TargetAlb', !internal), healthCheckPath: '/ready', protocol: 'HTTP' },
    ...overrides,
  });
  routing.grantChangeWeights(workflowRole);
  const template = Template.fromStack(stack);
  return { app, stack, routing, template, workflowRole };
}

const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as CfnElement);

/** CloudFormation intrinsics as stable strings (`Ref` → logical id, `GetAtt` → id.attr), numbers as strings. */
function asDelivered(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map(asDelivered);
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string') return o.Ref;
  if (Array.isArray(o['Fn::GetAtt'])) return (o['Fn::GetAtt'] as string[]).join('.');
  if (Array.isArray(o['Fn::Join'])) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(asDelivered).join(sep);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, asDelivered(v)]));
}

describe('WeightedServiceRouting', () => {
  const built = build();
  const resource = Object.values(built.template.findResources('Custom::WeightedServiceRecords'))[0] as {
    Properties: Record<string, unknown>;
  };
  const sourceCheck = logicalId(built.stack, built.routing.sourceHealthCheck);
  const targetCheck = logicalId(built.stack, built.routing.targetHealthCheck);

  it('lets no AWS::Route53::RecordSet carry a weight: the records belong to the custom resource', () => {
    built.template.resourceCountIs('AWS::Route53::RecordSet', 0);
    built.template.resourceCountIs('Custom::WeightedServiceRecords', 1);
    expect(resource.Properties).toMatchObject({ RecordName: 'pay.example.com.', RecordType: 'A' });
  });

  it('health-checks each load balancer on its own path and protocol', () => {
    built.template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: Match.objectLike({ Type: 'HTTPS', Port: 443, ResourcePath: '/health', EnableSNI: true }),
    });
    built.template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: Match.objectLike({ Type: 'HTTP', Port: 80, ResourcePath: '/ready' }),
    });
    expect(built.routing.healthCheckIds).toEqual({
      source: built.routing.sourceHealthCheck.healthCheckId,
      target: built.routing.targetHealthCheck.healthCheckId,
    });
  });

  describe('what Route 53 answers with the synthesized records (model of the documented selection rules)', () => {
    const r53 = mockClient(Route53Client);
    beforeEach(() => {
      r53.reset();
      r53
        .on(ChangeResourceRecordSetsCommand)
        .resolves({ ChangeInfo: { Id: 'C', Status: 'PENDING', SubmittedAt: new Date() } });
      r53.on(GetChangeCommand).resolves({ ChangeInfo: { Id: 'C', Status: 'INSYNC', SubmittedAt: new Date() } });
    });

    /** Runs the handler on the synthesized properties and models what it wrote. */
    async function written(
      requestType: 'Create' | 'Update',
      liveWeights?: Record<string, number>,
    ): Promise<ModelRecord[]> {
      const props = asDelivered(resource.Properties) as Record<string, unknown>;
      if (liveWeights) {
        r53.on(ListResourceRecordSetsCommand).resolves({
          ResourceRecordSets: Object.entries(liveWeights).map(([id, w]) => ({
            Name: 'pay.example.com.',
            Type: 'A',
            SetIdentifier: id,
            Weight: w,
          })),
          IsTruncated: false,
          MaxItems: 100,
        });
      }
      await handler({
        RequestType: requestType,
        RequestId: 'r',
        StackId: 's',
        LogicalResourceId: 'Routing',
        ResourceType: 'Custom::WeightedServiceRecords',
        ResourceProperties: props,
        ...(requestType === 'Update'
          ? { PhysicalResourceId: `${String(props.HostedZoneId)}|pay.example.com.|A`, OldResourceProperties: props }
          : {}),
      });
      return r53.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input.ChangeBatch!.Changes!.map((c) => {
        const r = c.ResourceRecordSet!;
        return {
          setIdentifier: r.SetIdentifier!,
          weight: r.Weight!,
          ...(r.HealthCheckId ? { healthCheckId: r.HealthCheckId } : {}),
          evaluateTargetHealth: r.AliasTarget!.EvaluateTargetHealth!,
          aliasTarget: r.AliasTarget!.DNSName!,
        };
      });
    }
    const states = () => everyHealthState([sourceCheck, targetCheck]);

    it('before the cutover, no health state of either load balancer puts the target in an answer', async () => {
      const records = await written('Create');
      expect(records.map((r) => [r.setIdentifier, r.weight])).toEqual([
        ['source', 100],
        ['target', 0],
      ]);
      for (const state of states()) {
        const answered = answers(records, state);
        expect({ state, target: answered.has('target') }).toEqual({ state, target: false });
        expect(answered.get('source')).toBe(1);
      }
      // Including the case the issue names: source unhealthy, target healthy.
      const outage = answers(records, { checks: { [sourceCheck]: false, [targetCheck]: true } });
      expect([...outage.keys()]).toEqual(['source']);
    });

    it('(the hazard it avoids) health checks on both records would send a source outage to the target', async () => {
      const records = (await written('Create')).map((r) =>
        r.setIdentifier === 'source' ? { ...r, healthCheckId: sourceCheck } : r,
      );
      const outage = answers(records, { checks: { [sourceCheck]: false, [targetCheck]: true } });
      expect([...outage.keys()]).toEqual(['target']);
    });

    it('while traffic is shifted, an unhealthy target drops out and the source takes everything', async () => {
      const records = await written('Update', { source: 90, target: 10 });
      expect(answers(records, { checks: { [targetCheck]: true } }).get('target')).toBeCloseTo(0.1);
      expect([...answers(records, { checks: { [targetCheck]: false } }).keys()]).toEqual(['source']);
    });

    it('a redeploy after the cutover moved weight writes the live weights back, not 100/0', async () => {
      const records = await written('Update', { source: 0, target: 100 });
      expect(records.map((r) => [r.setIdentifier, r.weight])).toEqual([
        ['source', 0],
        ['target', 100],
      ]);
    });
  });

  it("gives the handler exactly what its code calls, on this zone and this record's name and type", () => {
    const templates = { Routing: built.template.toJSON() as TemplateJson };
    const { statements } = statementsForRole(
      templates,
      'Routing',
      logicalId(built.stack, built.routing.handler.role as never),
    );
    const needed = requiredActions(analyseHandler('weighted-routing').calls);
    expect([...needed.keys()].sort()).toEqual([
      'route53:ChangeResourceRecordSets',
      'route53:GetChange',
      'route53:ListResourceRecordSets',
    ]);
    expect(missingActions(needed, statements)).toEqual([]);
    built.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(built.stack, built.routing.handler.role as never) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'route53:ChangeResourceRecordSets',
            Condition: {
              'ForAllValues:StringEquals': {
                'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['pay.example.com'],
                'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
                'route53:ChangeResourceRecordSetsActions': ['CREATE', 'UPSERT', 'DELETE'],
              },
            },
          }),
        ]),
      },
    });
  });

  it('grantChangeWeights allows UPSERT of this name only, reading records and health check status', () => {
    built.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(built.stack, built.workflowRole) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'route53:ListResourceRecordSets' }),
          Match.objectLike({
            Action: 'route53:ChangeResourceRecordSets',
            Condition: {
              'ForAllValues:StringEquals': Match.objectLike({ 'route53:ChangeResourceRecordSetsActions': ['UPSERT'] }),
            },
          }),
          Match.objectLike({ Action: 'route53:GetHealthCheckStatus' }),
        ]),
      },
    });
  });

  it('refuses an internal load balancer: Route 53 health checkers could never reach it', () => {
    expect(() => build({}, true)).toThrow(/target load balancer is internal/);
  });

  it.each([['health'], ['/with space'], ['']])('refuses health check path %j', (path) => {
    const ok = build();
    expect(
      () =>
        new WeightedServiceRouting(ok.stack, 'Bad', {
          hostedZone: ok.routing.hostedZone,
          recordName: 'x',
          source: {
            loadBalancer: ok.stack.node.findChild('SourceAlb') as elbv2.ApplicationLoadBalancer,
            healthCheckPath: path,
            protocol: 'HTTP',
          },
          target: {
            loadBalancer: ok.stack.node.findChild('TargetAlb') as elbv2.ApplicationLoadBalancer,
            healthCheckPath: '/h',
            protocol: 'HTTP',
          },
        }),
    ).toThrow(/source\.healthCheckPath .* must start with '\/'/);
  });

  it('takes a fully qualified record name as is', () => {
    expect(build({ recordName: 'Pay.Example.com.' }).routing.recordName).toBe('pay.example.com.');
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    const report = new AwsSolutionsChecks(built.app).validateScope(built.stack);
    // The VPC and load balancers are fixtures; the construct and the role it grants to are under test.
    const ours = (path: string) => path.startsWith('Routing/Routing/') || path.startsWith('Routing/WorkflowRole/');
    const own = report.violations.flatMap((v) =>
      v.violatingResources.filter((r) => ours(r.constructPath ?? '')).map((r) => `${v.ruleName} ${r.constructPath}`),
    );
    expect(own).toEqual([]);
  });
});
