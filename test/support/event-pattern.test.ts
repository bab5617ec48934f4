import { matchesPattern, normalisePattern, PatternError } from './event-pattern';

// Examples are the EventBridge User Guide's own (pages named in event-pattern.ts); where a page gives a
// pattern without an event, the event is the smallest one that shows the documented behaviour.

/** "Creating Amazon EventBridge event patterns" (eb-event-patterns.html): the EC2 sample event. */
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

const withDetail = (detail: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  ...ec2Event,
  ...top,
  detail,
});

describe('matchesPattern: structure', () => {
  test('the documented EC2 termination pattern matches its event, and a different state does not', () => {
    const pattern = {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ ...ec2Event.detail, state: 'running' }))).toBe(false);
  });

  test('values in a pattern array OR together ("aws.ec2" or "aws.fargate")', () => {
    expect(matchesPattern({ source: ['aws.fargate', 'aws.ec2'] }, ec2Event)).toBe(true);
    expect(matchesPattern({ source: ['aws.fargate', 'aws.s3'] }, ec2Event)).toBe(false);
  });

  test('fields AND together, and a field the event lacks fails the match', () => {
    expect(matchesPattern({ source: ['aws.ec2'], region: ['us-east-1'] }, ec2Event)).toBe(false);
    expect(matchesPattern({ detail: { missing: ['x'] } }, ec2Event)).toBe(false);
  });

  test('CDK camelCase detailType is read as detail-type', () => {
    expect(matchesPattern({ detailType: ['EC2 Instance State-change Notification'] }, ec2Event)).toBe(true);
    expect(matchesPattern({ detailType: ['Object Created'] }, ec2Event)).toBe(false);
    expect(normalisePattern({ detailType: ['x'], source: ['y'] })).toEqual({ 'detail-type': ['x'], source: ['y'] });
    expect(() => normalisePattern({ detailType: ['x'], 'detail-type': ['y'] })).toThrow(PatternError);
  });

  test('an event array matches when the pattern and event arrays intersect (the documented resources example)', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };
    const event = {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };
    expect(matchesPattern(pattern, event)).toBe(true);
    expect(matchesPattern(pattern, { resources: [event.resources[0]] })).toBe(false);
    expect(matchesPattern(pattern, { resources: [] })).toBe(false);
  });

  test('an array of objects matches when one element matches the whole sub-pattern', () => {
    const event = {
      detail: {
        items: [
          { kind: 'a', size: 1 },
          { kind: 'b', size: 2 },
        ],
      },
    };
    expect(matchesPattern({ detail: { items: { kind: ['b'], size: [2] } } }, event)).toBe(true);
    // kind of one element with size of the other is not a match of any one element.
    expect(matchesPattern({ detail: { items: { kind: ['a'], size: [2] } } }, event)).toBe(false);
  });

  test('null and the empty string are different values (eb-event-patterns-null-values)', () => {
    const event = withDetail({ eventVersion: '', responseElements: null }, { source: 'aws.autoscaling' });
    expect(matchesPattern({ detail: { eventVersion: [''] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { responseElements: [''] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { eventVersion: [null] } }, event)).toBe(false);
  });

  test('exact values are typed: the string "5" is not the number 5, true is not "true"', () => {
    expect(matchesPattern({ detail: { n: [5] } }, withDetail({ n: 5 }))).toBe(true);
    expect(matchesPattern({ detail: { n: ['5'] } }, withDetail({ n: 5 }))).toBe(false);
    expect(matchesPattern({ detail: { b: [true] } }, withDetail({ b: true }))).toBe(true);
    expect(matchesPattern({ detail: { b: ['true'] } }, withDetail({ b: true }))).toBe(false);
    expect(matchesPattern({ detail: { n: [3.018e2] } }, withDetail({ n: 301.8 }))).toBe(true);
  });
});

describe('matchesPattern: content filters', () => {
  test('prefix on "time", with and without equals-ignore-case', () => {
    expect(matchesPattern({ time: [{ prefix: '2017-12-22' }] }, ec2Event)).toBe(true);
    expect(matchesPattern({ time: [{ prefix: '2017-10-02' }] }, ec2Event)).toBe(false);
    const svc = (service: string) => withDetail({ service });
    const ci = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    expect(matchesPattern(ci, svc('eventbridge'))).toBe(true);
    expect(matchesPattern(ci, svc('EVENTBRIDGE'))).toBe(true);
    expect(matchesPattern(ci, svc('sqs'))).toBe(false);
    expect(matchesPattern({ detail: { service: [{ prefix: 'EventB' }] } }, svc('eventbridge'))).toBe(false);
  });

  test('prefix matches strings only', () => {
    expect(matchesPattern({ detail: { n: [{ prefix: '1' }] } }, withDetail({ n: 12 }))).toBe(false);
  });

  test('suffix ".png", with and without equals-ignore-case', () => {
    const file = (FileName: string) => withDetail({ FileName });
    expect(matchesPattern({ detail: { FileName: [{ suffix: '.png' }] } }, file('cat.png'))).toBe(true);
    expect(matchesPattern({ detail: { FileName: [{ suffix: '.png' }] } }, file('cat.PNG'))).toBe(false);
    expect(
      matchesPattern({ detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, file('cat.PNG')),
    ).toBe(true);
  });

  test('equals-ignore-case ("alice")', () => {
    expect(
      matchesPattern({ detail: { Name: [{ 'equals-ignore-case': 'alice' }] } }, withDetail({ Name: 'Alice' })),
    ).toBe(true);
    expect(
      matchesPattern({ detail: { Name: [{ 'equals-ignore-case': 'alice' }] } }, withDetail({ Name: 'Alicia' })),
    ).toBe(false);
  });

  test('anything-but a string, a number, a list of strings, a list of numbers', () => {
    const state = (s: unknown) => withDetail({ state: s, 'x-limit': 200 });
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, state('running'))).toBe(true);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, state('initializing'))).toBe(
      false,
    );
    expect(matchesPattern({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, state('x'))).toBe(true);
    expect(matchesPattern({ detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, state('x'))).toBe(false);
    const list = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(matchesPattern(list, state('stopped'))).toBe(false);
    expect(matchesPattern(list, state('running'))).toBe(true);
  });

  test('anything-but needs the field to be there', () => {
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({}))).toBe(false);
  });

  test('anything-but prefix, suffix, equals-ignore-case and wildcard', () => {
    const ab = (inner: unknown) => ({ detail: { v: [{ 'anything-but': inner }] } });
    const v = (value: string) => withDetail({ v: value });
    expect(matchesPattern(ab({ prefix: 'init' }), v('initializing'))).toBe(false);
    expect(matchesPattern(ab({ prefix: 'init' }), v('running'))).toBe(true);
    expect(matchesPattern(ab({ suffix: '.png' }), v('a.png'))).toBe(false);
    expect(matchesPattern(ab({ suffix: '.png' }), v('a.jpg'))).toBe(true);
    expect(matchesPattern(ab({ 'equals-ignore-case': 'initializing' }), v('INITIALIZING'))).toBe(false);
    expect(matchesPattern(ab({ 'equals-ignore-case': ['a', 'b'] }), v('B'))).toBe(false);
    expect(matchesPattern(ab({ 'equals-ignore-case': ['a', 'b'] }), v('c'))).toBe(true);
    expect(matchesPattern(ab({ wildcard: '*/lib/*' }), v('/usr/lib/x.so'))).toBe(false);
    expect(matchesPattern(ab({ wildcard: '*/lib/*' }), v('/usr/bin/x'))).toBe(true);
  });

  test('anything-but over an event array matches when some element is not excluded', () => {
    const p = { detail: { state: [{ 'anything-but': 'initializing' }] } };
    expect(matchesPattern(p, withDetail({ state: ['initializing', 'running'] }))).toBe(true);
    expect(matchesPattern(p, withDetail({ state: ['initializing'] }))).toBe(false);
  });

  test('numeric ranges (the documented c-count / d-count / x-limit pattern) match JSON numbers only', () => {
    const pattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };
    expect(matchesPattern(pattern, withDetail({ 'c-count': 5, 'd-count': 9.5, 'x-limit': 301.8 }))).toBe(true);
    expect(matchesPattern(pattern, withDetail({ 'c-count': 0, 'd-count': 9, 'x-limit': 301.8 }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ 'c-count': 3, 'd-count': 10, 'x-limit': 301.8 }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ 'c-count': '3', 'd-count': 9, 'x-limit': 301.8 }))).toBe(false);
  });

  test('exists: true needs a leaf value; exists: false matches an absent field or a non-leaf one', () => {
    const has = { detail: { state: [{ exists: true }] } };
    expect(matchesPattern(has, { ...ec2Event, detail: { 'instance-id': 'i-abcd1111', state: 'pending' } })).toBe(true);
    expect(matchesPattern(has, withDetail({ 'c-count': { c1: 100 } }))).toBe(false);
    const lacks = { detail: { 'c-count': [{ exists: false }] } };
    expect(matchesPattern(lacks, withDetail({ state: ['initializing', 'running'] }))).toBe(true);
    // The page: also matches, "because c-count isn't a leaf node".
    expect(matchesPattern(lacks, withDetail({ state: ['initializing', 'running'], 'c-count': { c1: 100 } }))).toBe(
      true,
    );
    expect(matchesPattern(lacks, withDetail({ 'c-count': 1 }))).toBe(false);
    expect(matchesPattern({ detail: { x: [{ exists: true }] } }, withDetail({ x: null }))).toBe(true);
  });

  test('wildcard: * is any run of characters, \\* a literal star', () => {
    const w = (pattern: string, value: string) =>
      matchesPattern({ detail: { k: [{ wildcard: pattern }] } }, withDetail({ k: value }));
    expect(w('dir/*.png', 'dir/cat.png')).toBe(true);
    expect(w('dir/*.png', 'dir/sub/cat.png')).toBe(true);
    expect(w('dir/*.png', 'other/cat.png')).toBe(false);
    expect(w('*Title*', 'The Title Page')).toBe(true);
    expect(w('a.c', 'abc')).toBe(false);
    expect(w('a\\*c', 'a*c')).toBe(true);
    expect(w('a\\*c', 'abc')).toBe(false);
    expect(() => w('a**', 'a')).toThrow(PatternError);
  });

  test('cidr matches IPv4 addresses inside the block', () => {
    const p = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(matchesPattern(p, withDetail({ sourceIPAddress: '10.0.0.255' }))).toBe(true);
    expect(matchesPattern(p, withDetail({ sourceIPAddress: '10.0.1.0' }))).toBe(false);
  });

  test('$or matches when any alternative matches', () => {
    const p = {
      detail: { $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] },
    };
    expect(matchesPattern(p, withDetail({ 'c-count': 10, 'd-count': 3 }))).toBe(true);
    expect(matchesPattern(p, withDetail({ 'c-count': 10, 'd-count': 30 }))).toBe(false);
  });

  test('the documented complex example combines prefix, anything-but and numeric', () => {
    const pattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
      },
    };
    const detail = { state: 'running', 'c-count': 1, 'd-count': 2, 'x-limit': 150 };
    expect(matchesPattern(pattern, withDetail(detail, { time: '2017-10-02T18:43:48Z' }))).toBe(true);
    expect(matchesPattern(pattern, withDetail({ ...detail, 'x-limit': 200 }, { time: '2017-10-02T18:43:48Z' }))).toBe(
      false,
    );
    expect(matchesPattern(pattern, withDetail(detail, { time: '2017-10-03T00:00:00Z' }))).toBe(false);
  });
});

describe('matchesPattern: malformed patterns are errors, not non-matches', () => {
  test.each([
    ['a bare string where an array belongs', { source: 'aws.ec2' }, 'source'],
    ['an unknown operator', { source: [{ 'starts-with': 'aws.' }] }, 'unknown operator'],
    ['an unresolved CloudFormation token', { detail: { jobName: [{ 'Fn::GetAtt': ['Job', 'Name'] }] } }, 'Fn::GetAtt'],
    ['a matcher with two operators', { source: [{ prefix: 'a', suffix: 'b' }] }, 'exactly one operator'],
    ['numeric without a number', { detail: { n: [{ numeric: ['>', '1'] }] } }, 'numeric'],
    ['anything-but with a mixed list', { source: [{ 'anything-but': ['a', 1] }] }, 'anything-but'],
  ])('%s', (_name, pattern, message) => {
    expect(() => matchesPattern(pattern, ec2Event)).toThrow(PatternError);
    expect(() => matchesPattern(pattern, ec2Event)).toThrow(message);
  });
});
