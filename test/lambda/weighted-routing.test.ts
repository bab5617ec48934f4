import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  InvalidChangeBatch,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/weighted-routing';

const route53 = mockClient(Route53Client);
const ZONE = 'Z0123456789ABC';
const NAME = 'pay.example.com.';

const properties = (overrides: { sourceDns?: string; targetHealthCheck?: string } = {}) => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:provider',
  HostedZoneId: ZONE,
  RecordName: NAME,
  RecordType: 'A',
  Records: [
    {
      SetIdentifier: 'source',
      InitialWeight: '100',
      AliasDnsName: overrides.sourceDns ?? 'dualstack.source-123.us-east-1.elb.amazonaws.com',
      AliasHostedZoneId: 'Z35SXDOTRQ7X7K',
    },
    {
      SetIdentifier: 'target',
      InitialWeight: '0',
      HealthCheckId: overrides.targetHealthCheck ?? 'hc-target',
      AliasDnsName: 'dualstack.target-456.us-east-1.elb.amazonaws.com',
      AliasHostedZoneId: 'Z35SXDOTRQ7X7K',
    },
  ],
});

const envelope = {
  RequestId: 'req-1',
  StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/payment/1',
  LogicalResourceId: 'RoutingResource',
  ResourceType: 'Custom::WeightedServiceRecords',
};
const PHYSICAL_ID = `${ZONE}|${NAME}|A`;

const live = (setIdentifier: string, weight: number, extra: Partial<ResourceRecordSet> = {}): ResourceRecordSet => ({
  Name: NAME,
  Type: 'A',
  SetIdentifier: setIdentifier,
  Weight: weight,
  AliasTarget: {
    DNSName: `dualstack.${setIdentifier}-old.us-east-1.elb.amazonaws.com.`,
    HostedZoneId: 'Z35SXDOTRQ7X7K',
    EvaluateTargetHealth: false,
  },
  ...extra,
});

function sentChanges() {
  return route53.commandCalls(ChangeResourceRecordSetsCommand).flatMap((c) => c.args[0].input.ChangeBatch!.Changes!);
}
const weightsOf = (changes: ReturnType<typeof sentChanges>) =>
  Object.fromEntries(changes.map((c) => [c.ResourceRecordSet!.SetIdentifier, c.ResourceRecordSet!.Weight]));

beforeEach(() => {
  route53.reset();
  route53
    .on(ChangeResourceRecordSetsCommand)
    .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date() } });
  route53
    .on(GetChangeCommand)
    .resolves({ ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() } });
});

describe('weighted-routing handler', () => {
  it('Create writes both records with the initial weights, the target with its health check, the source with none', async () => {
    const out = await handler({ ...envelope, RequestType: 'Create', ResourceProperties: properties() });
    expect(out).toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { Weights: 'source=100,target=0' } });
    const changes = sentChanges();
    expect(changes.map((c) => c.Action)).toEqual(['CREATE', 'CREATE']);
    expect(weightsOf(changes)).toEqual({ source: 100, target: 0 });
    const [source, target] = changes.map((c) => c.ResourceRecordSet!);
    expect(source!.HealthCheckId).toBeUndefined();
    expect(target!.HealthCheckId).toBe('hc-target');
    for (const r of [source!, target!]) {
      expect(r.TTL).toBeUndefined();
      expect(r.AliasTarget!.EvaluateTargetHealth).toBe(false);
    }
    expect(route53).toHaveReceivedCommandWith(GetChangeCommand, { Id: '/change/C1' });
  });

  it('an Update (a redeploy) keeps the weights the cutover set and changes only targets and health checks', async () => {
    route53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [live('source', 40), live('target', 60, { HealthCheckId: 'hc-old' })],
      IsTruncated: false,
      MaxItems: 100,
    });
    const out = await handler({
      ...envelope,
      RequestType: 'Update',
      PhysicalResourceId: PHYSICAL_ID,
      ResourceProperties: properties({
        sourceDns: 'dualstack.source-new.us-east-1.elb.amazonaws.com',
        targetHealthCheck: 'hc-new',
      }),
      OldResourceProperties: properties(),
    });
    const changes = sentChanges();
    expect(changes.map((c) => c.Action)).toEqual(['UPSERT', 'UPSERT']);
    // The template says 100/0; the live weights win.
    expect(weightsOf(changes)).toEqual({ source: 40, target: 60 });
    expect(changes[0]!.ResourceRecordSet!.AliasTarget!.DNSName).toBe(
      'dualstack.source-new.us-east-1.elb.amazonaws.com',
    );
    expect(changes[1]!.ResourceRecordSet!.HealthCheckId).toBe('hc-new');
    expect(out).toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { Weights: 'source=40,target=60' } });
    expect(route53).toHaveReceivedCommandWith(ListResourceRecordSetsCommand, {
      HostedZoneId: ZONE,
      StartRecordName: NAME,
      StartRecordType: 'A',
    });
  });

  it('an Update reads only this name and type, across pages', async () => {
    route53
      .on(ListResourceRecordSetsCommand)
      .resolvesOnce({
        ResourceRecordSets: [live('source', 0)],
        IsTruncated: true,
        NextRecordName: NAME,
        NextRecordType: 'A',
        NextRecordIdentifier: 'target',
        MaxItems: 1,
      })
      .resolvesOnce({
        ResourceRecordSets: [
          live('target', 100),
          { ...live('target', 7), Name: 'zzz.example.com.' }, // the next name: not ours
        ],
        IsTruncated: false,
        MaxItems: 1,
      });
    await handler({
      ...envelope,
      RequestType: 'Update',
      PhysicalResourceId: PHYSICAL_ID,
      ResourceProperties: properties(),
      OldResourceProperties: properties(),
    });
    expect(weightsOf(sentChanges())).toEqual({ source: 0, target: 100 });
    expect(route53.commandCalls(ListResourceRecordSetsCommand)[1]!.args[0].input.StartRecordIdentifier).toBe('target');
  });

  it('an Update recreates a record deleted out of band with its initial weight, and keeps the other one', async () => {
    route53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [live('target', 25)], IsTruncated: false, MaxItems: 100 });
    await handler({
      ...envelope,
      RequestType: 'Update',
      PhysicalResourceId: PHYSICAL_ID,
      ResourceProperties: properties(),
      OldResourceProperties: properties(),
    });
    expect(weightsOf(sentChanges())).toEqual({ source: 100, target: 25 });
  });

  it('Delete removes exactly the live records (a DELETE must match them)', async () => {
    const liveTarget = live('target', 30, { HealthCheckId: 'hc-target' });
    route53
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [live('source', 70), liveTarget], IsTruncated: false, MaxItems: 100 });
    await handler({
      ...envelope,
      RequestType: 'Delete',
      PhysicalResourceId: PHYSICAL_ID,
      ResourceProperties: properties(),
    });
    const changes = sentChanges();
    expect(changes.map((c) => c.Action)).toEqual(['DELETE', 'DELETE']);
    expect(weightsOf(changes)).toEqual({ source: 70, target: 30 });
    expect(changes[1]!.ResourceRecordSet!.AliasTarget!.DNSName).toBe(liveTarget.AliasTarget!.DNSName);
  });

  it('Delete of records already gone changes nothing', async () => {
    route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 100 });
    await handler({
      ...envelope,
      RequestType: 'Delete',
      PhysicalResourceId: PHYSICAL_ID,
      ResourceProperties: properties(),
    });
    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
  });

  it('a Create that meets existing records fails with what to do, and adopts nothing', async () => {
    route53
      .on(ChangeResourceRecordSetsCommand)
      .rejects(
        new InvalidChangeBatch({ message: 'Tried to create resource record set but it already exists', $metadata: {} }),
      );
    await expect(handler({ ...envelope, RequestType: 'Create', ResourceProperties: properties() })).rejects.toThrow(
      /already has weighted records.*does not adopt records it did not create/,
    );
  });

  it('refuses a weight outside 0-255 and names the field', async () => {
    const bad = properties();
    bad.Records[1]!.InitialWeight = '300';
    await expect(handler({ ...envelope, RequestType: 'Create', ResourceProperties: bad })).rejects.toThrow(
      /Records\[1\]\.InitialWeight must be a whole number from 0 to 255/,
    );
    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
  });
});
