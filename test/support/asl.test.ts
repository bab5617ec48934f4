import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import {
  AslValidationError,
  definitionFromTemplate,
  resolveIntrinsics,
  runDefinition,
  taskError,
  TemplateResolutionError,
  type AslDefinition,
  type Json,
} from './asl';

const ARN = /^arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$/;

/** A template fragment with the resources the resolver tests refer to. */
const template = {
  Parameters: { BucketSuffix: { Type: 'String', Default: 'dev' }, NoDefault: { Type: 'String' } },
  Resources: {
    Handler: { Type: 'AWS::Lambda::Function', Properties: {} },
    NamedHandler: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'glue-trigger-dev' } },
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    DataBucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    Task: { Type: 'AWS::DMS::ReplicationTask', Properties: {} },
    Other: { Type: 'AWS::Lambda::Function', Properties: {} },
  },
};

describe('resolveIntrinsics', () => {
  const resolve = (v: unknown, opts = {}): Json => resolveIntrinsics(v, template, opts);

  it('resolves pseudo parameters with defaults and with options', () => {
    const join = {
      'Fn::Join': [
        ':',
        [{ Ref: 'AWS::Partition' }, { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, { Ref: 'AWS::URLSuffix' }],
      ],
    };
    expect(resolve(join)).toBe('aws:us-west-2:123456789012:amazonaws.com');
    expect(resolve(join, { partition: 'aws-cn', region: 'cn-north-1', account: '210987654321' })).toBe(
      'aws-cn:cn-north-1:210987654321:amazonaws.com.cn',
    );
  });

  it('gives each resource type a well-formed Ref and Arn', () => {
    const handlerName = resolve({ Ref: 'Handler' }) as string;
    expect(handlerName).toMatch(/^Handler-[0-9A-F]{12}$/);
    expect(resolve({ 'Fn::GetAtt': ['Handler', 'Arn'] })).toBe(
      `arn:aws:lambda:us-west-2:123456789012:function:${handlerName}`,
    );
    expect(resolve({ 'Fn::GetAtt': ['NamedHandler', 'Arn'] })).toBe(
      'arn:aws:lambda:us-west-2:123456789012:function:glue-trigger-dev',
    );
    expect(resolve({ Ref: 'Topic' })).toMatch(/^arn:aws:sns:us-west-2:123456789012:Topic-/);
    expect(resolve({ 'Fn::GetAtt': ['Topic', 'TopicName'] })).toMatch(/^Topic-[0-9A-F]{12}$/);
    expect(resolve({ Ref: 'Queue' })).toMatch(/^https:\/\/sqs\.us-west-2\.amazonaws\.com\/123456789012\/Queue-/);
    expect(resolve({ 'Fn::GetAtt': 'Queue.Arn' })).toMatch(/^arn:aws:sqs:us-west-2:123456789012:Queue-/);
    const bucket = resolve({ Ref: 'DataBucket' }) as string;
    expect(bucket).toMatch(/^[a-z0-9-]+$/);
    expect(resolve({ 'Fn::GetAtt': ['DataBucket', 'Arn'] })).toBe(`arn:aws:s3:::${bucket}`);
    expect(resolve({ Ref: 'Task' })).toMatch(/^arn:aws:dms:us-west-2:123456789012:task:[0-9A-F]{26}$/);
    for (const id of Object.keys(template.Resources)) {
      expect(resolve({ 'Fn::GetAtt': [id, 'Arn'] })).toMatch(ARN);
    }
  });

  it('fakes other attributes deterministically and distinctly per resource', () => {
    const a = resolve({ 'Fn::GetAtt': ['Handler', 'SnapStartResponse.ApplyOn'] });
    expect(a).toBe(resolve({ 'Fn::GetAtt': ['Handler', 'SnapStartResponse.ApplyOn'] }));
    expect(a).not.toBe(resolve({ 'Fn::GetAtt': ['Other', 'SnapStartResponse.ApplyOn'] }));
  });

  it('substitutes Fn::Sub variables from the map, Refs, GetAtts, and keeps ${!literal}', () => {
    expect(resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${DataBucket}/incoming/${!key}' })).toBe(
      `arn:aws:s3:::${resolve({ Ref: 'DataBucket' }) as string}/incoming/\${key}`,
    );
    expect(resolve({ 'Fn::Sub': '${Queue.Arn}' })).toBe(resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] }));
    expect(
      resolve({
        'Fn::Sub': ['${Fn}|${Env}|${AWS::Region}', { Fn: { 'Fn::GetAtt': ['NamedHandler', 'Arn'] }, Env: 'dev' }],
      }),
    ).toBe('arn:aws:lambda:us-west-2:123456789012:function:glue-trigger-dev|dev|us-west-2');
  });

  it('resolves imports from options, else to a deterministic ARN-shaped or plain fake', () => {
    expect(resolve({ 'Fn::ImportValue': 'Shared:TopicArn' }, { imports: { 'Shared:TopicArn': 'arn:aws:sns:x' } })).toBe(
      'arn:aws:sns:x',
    );
    const fake = resolve({ 'Fn::ImportValue': 'Storage:ExportsOutputFnGetAttDataBucketArn1234' });
    expect(fake).toMatch(ARN);
    expect(fake).toBe(resolve({ 'Fn::ImportValue': 'Storage:ExportsOutputFnGetAttDataBucketArn1234' }));
    expect(resolve({ 'Fn::ImportValue': 'Storage:ExportsOutputRefDataBucketName' })).toBe(
      'imported-Storage-ExportsOutputRefDataBucketName',
    );
  });

  it('selects from split strings, drops AWS::NoValue and reads parameter defaults', () => {
    expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'incoming/smoke/a.csv'] }] })).toBe('smoke');
    expect(resolve({ 'Fn::Select': ['3', { 'Fn::Split': [':', { 'Fn::GetAtt': ['Handler', 'Arn'] }] }] })).toBe(
      'us-west-2',
    );
    expect(resolve({ a: 1, b: { Ref: 'AWS::NoValue' }, c: [1, { Ref: 'AWS::NoValue' }] })).toEqual({ a: 1, c: [1] });
    expect(resolve({ Ref: 'BucketSuffix' })).toBe('dev');
    expect(resolve({ Ref: 'NoDefault' }, { parameters: { NoDefault: 'given' } })).toBe('given');
  });

  it('names what it cannot resolve', () => {
    expect(() => resolve({ Ref: 'Missing' })).toThrow(/no resource or parameter named Missing/);
    expect(() => resolve({ Ref: 'NoDefault' })).toThrow(/parameter NoDefault has no Default/);
    expect(() => resolve({ 'Fn::Cidr': ['10.0.0.0/16', 2, 8] })).toThrow(/Fn::Cidr is not supported/);
    expect(() => resolve({ 'Fn::Select': [3, ['a']] })).toThrow(/index 3 is outside a list of 1/);
    expect(() => resolve({ 'Fn::Join': ['', [{ a: 1 }]] })).toThrow(TemplateResolutionError);
  });
});

describe('definitionFromTemplate', () => {
  const machine = (definitionString: unknown, extra: Record<string, unknown> = {}) => ({
    Type: 'AWS::StepFunctions::StateMachine',
    Properties: { DefinitionString: definitionString, ...extra },
  });
  const simple = JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });

  it('takes the only state machine and parses a plain string', () => {
    expect(definitionFromTemplate({ Resources: { SM: machine(simple) } })).toEqual(JSON.parse(simple));
  });

  it('requires a logical id when there are several and names the candidates', () => {
    const tpl = { Resources: { A: machine(simple), B: machine(simple) } };
    expect(() => definitionFromTemplate(tpl)).toThrow(/found 2 \(A, B\); pass a logical id/);
    expect(definitionFromTemplate(tpl, 'B')).toEqual(JSON.parse(simple));
    expect(() => definitionFromTemplate(tpl, 'C')).toThrow(
      /No AWS::StepFunctions::StateMachine with logical id C; the template has: A, B/,
    );
  });

  it('resolves Fn::Join pieces and DefinitionSubstitutions into the JSON text', () => {
    const tpl = {
      Resources: {
        ...template.Resources,
        SM: machine(
          {
            'Fn::Join': [
              '',
              [
                '{"StartAt":"Publish","States":{"Publish":{"Type":"Task","Resource":"arn:',
                { Ref: 'AWS::Partition' },
                ':states:::sns:publish","Parameters":{"TopicArn":"',
                { Ref: 'Topic' },
                '","Message":"${greeting}"},"End":true}}}',
              ],
            ],
          },
          { DefinitionSubstitutions: { greeting: { 'Fn::Sub': 'hello from ${AWS::Region}' } } },
        ),
      },
    };
    const def = definitionFromTemplate(tpl, undefined, { region: 'eu-west-1' });
    expect(def.States.Publish).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::sns:publish',
      Parameters: {
        TopicArn: expect.stringMatching(/^arn:aws:sns:eu-west-1:123456789012:Topic-/),
        Message: 'hello from eu-west-1',
      },
      End: true,
    });
  });

  it('throws the validator findings for an invalid definition', () => {
    const bad = JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } });
    let error: unknown;
    try {
      definitionFromTemplate({ Resources: { SM: machine(bad) } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AslValidationError);
    expect((error as AslValidationError).errors.join('\n')).toMatch(/MISSING_TRANSITION_TARGET.*Nowhere/);
  });

  it('says when the resolved text is not JSON', () => {
    expect(() => definitionFromTemplate({ Resources: { SM: machine('{"StartAt":') } })).toThrow(
      /SM.DefinitionString is not JSON after resolution/,
    );
  });
});

/** A small real stack: describe a DMS task until it runs, waiting between looks; publish; catch-all to a Fail. */
function synthesizedDefinition(): AslDefinition {
  const stack = new Stack(new App(), 'AslHarness', { env: { account: '111111111111', region: 'us-west-2' } });
  const topic = new sns.Topic(stack, 'Outcome');
  const describe = new tasks.CallAwsService(stack, 'DescribeTask', {
    service: 'databasemigration',
    action: 'describeReplicationTasks',
    parameters: { Filters: [{ Name: 'replication-task-arn', Values: sfn.JsonPath.listAt('$.taskArns') }] },
    iamResources: ['*'],
    resultSelector: { 'status.$': '$.ReplicationTasks[0].Status' },
    resultPath: '$.task',
  });
  describe.addRetry({
    errors: ['DatabaseMigration.ThrottlingException'],
    interval: Duration.seconds(2),
    maxAttempts: 3,
    backoffRate: 2,
  });
  const failed = new sfn.Fail(stack, 'MigrationFailed', { error: 'MigrationFailed', cause: 'see the catch' });
  describe.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
  const publish = new tasks.SnsPublish(stack, 'PublishOutcome', { topic, message: sfn.TaskInput.fromText('running') });
  const wait = new sfn.Wait(stack, 'WaitBeforeLookingAgain', { time: sfn.WaitTime.duration(Duration.minutes(5)) });
  const running = new sfn.Choice(stack, 'TaskRunning?')
    .when(sfn.Condition.stringEquals('$.task.status', 'running'), publish)
    .otherwise(wait);
  wait.next(describe);
  new sfn.StateMachine(stack, 'Workflow', {
    definitionBody: sfn.DefinitionBody.fromChainable(describe.next(running)),
    timeout: Duration.hours(2),
  });
  return definitionFromTemplate(Template.fromStack(stack).toJSON(), undefined, { account: '111111111111' });
}

describe('a synthesized CDK state machine', () => {
  const definition = synthesizedDefinition();
  const input = { taskArns: ['arn:aws:dms:us-west-2:111111111111:task:ABC'] };
  const statuses = (...s: string[]) => {
    const calls: Json[] = [];
    const handler = async (i: Json) => {
      calls.push(i);
      const next = s.shift();
      if (next === undefined) throw new Error('describe called more often than the test planned');
      if (next.includes('.')) throw taskError(next, `${next} from the test`);
      return { ReplicationTasks: [{ Status: next }] }; // the SDK's response shape, before ResultSelector
    };
    return { handler, calls };
  };

  it('resolves the SDK integration and the topic reference', () => {
    const describeState = definition.States.DescribeTask!;
    expect(describeState.Resource).toBe('arn:aws:states:::aws-sdk:databasemigration:describeReplicationTasks');
    expect((definition.States.PublishOutcome!.Parameters as Record<string, string>).TopicArn).toMatch(
      /^arn:aws:sns:us-west-2:111111111111:Outcome[0-9A-F]{8}-/,
    );
    expect(definition.TimeoutSeconds).toBe(7200);
  });

  it('loops through the Wait until the Choice sees the task running', async () => {
    const describe = statuses('starting', 'starting', 'running');
    const published: Json[] = [];
    const result = await runDefinition(definition, input, {
      handlers: { DescribeTask: describe.handler, PublishOutcome: async (i) => void published.push(i) },
      waitOverrides: 'all-zero',
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.visited).toEqual([
      'DescribeTask',
      'TaskRunning?',
      'WaitBeforeLookingAgain',
      'DescribeTask',
      'TaskRunning?',
      'WaitBeforeLookingAgain',
      'DescribeTask',
      'TaskRunning?',
      'PublishOutcome',
    ]);
    expect(result.transitions).toBe(9);
    // The handler sees the state's Parameters applied to the input.
    expect(describe.calls[0]).toEqual({ Filters: [{ Name: 'replication-task-arn', Values: input.taskArns }] });
    expect(published).toHaveLength(1);
  });

  it('retries a named throttling error and then succeeds', async () => {
    const describe = statuses(
      'DatabaseMigration.ThrottlingException',
      'DatabaseMigration.ThrottlingException',
      'running',
    );
    const result = await runDefinition(definition, input, {
      handlers: { DescribeTask: describe.handler, PublishOutcome: async () => ({}) },
      retryOverrides: 'all-zero',
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.retries).toBe(2);
    expect(result.visited).toEqual(['DescribeTask', 'TaskRunning?', 'PublishOutcome']);
  });

  it('goes to the catch-all failure path once retries are spent', async () => {
    const throttled = 'DatabaseMigration.ThrottlingException';
    const describe = statuses(throttled, throttled, throttled, throttled);
    const result = await runDefinition(definition, input, {
      handlers: { DescribeTask: describe.handler, PublishOutcome: async () => ({}) },
      retryOverrides: 'all-zero',
    });
    expect(result).toMatchObject({ status: 'FAILED', error: 'MigrationFailed', cause: 'see the catch', retries: 3 });
    expect(result.visited).toEqual(['DescribeTask', 'MigrationFailed']);
    const caught = result.events.find((e) => e.type === 'StateFailed');
    expect(caught?.Error).toBe(throttled);
  });

  it('catches an error it does not retry without retrying it', async () => {
    const describe = statuses('DatabaseMigration.ResourceNotFoundFault');
    const result = await runDefinition(definition, input, {
      handlers: { DescribeTask: describe.handler, PublishOutcome: async () => ({}) },
    });
    expect(result).toMatchObject({ status: 'FAILED', error: 'MigrationFailed', retries: 0 });
    expect(describe.calls).toHaveLength(1);
  });

  it('refuses to run with a Task state left without a handler, or a handler for no Task state', async () => {
    await expect(runDefinition(definition, input, { handlers: { DescribeTask: async () => ({}) } })).rejects.toThrow(
      'No local handler for Task state(s): PublishOutcome',
    );
    await expect(
      runDefinition(definition, input, {
        handlers: { DescribeTask: async () => ({}), PublishOutcome: async () => ({}), Describe: async () => ({}) },
      }),
    ).rejects.toThrow(/Handlers name states that are not Task states: Describe/);
  });
});

describe('runDefinition outcomes', () => {
  const oneTask: AslDefinition = {
    StartAt: 'Work',
    States: { Work: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
  };

  it('reports an uncaught handler error by its name and message', async () => {
    const result = await runDefinition(
      oneTask,
      {},
      {
        handlers: {
          Work: () => {
            throw taskError('Custom.Broken', 'the disk is full');
          },
        },
      },
    );
    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'Custom.Broken',
      cause: 'the disk is full',
      transitions: 1,
    });
  });

  it('matches States.TaskFailed against any error a Task throws', async () => {
    const def: AslDefinition = {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Recovered', ResultPath: '$.error' }],
          End: true,
        },
        Recovered: { Type: 'Pass', End: true },
      },
    };
    const result = await runDefinition(
      def,
      {},
      {
        handlers: {
          Work: () => {
            throw taskError('Anything.AtAll', 'boom');
          },
        },
      },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ error: { Error: 'Anything.AtAll', Cause: 'boom' } });
  });

  it('reports TIMED_OUT when the execution outlives TimeoutSeconds', async () => {
    const def: AslDefinition = {
      StartAt: 'Pause',
      TimeoutSeconds: 1,
      States: { Pause: { Type: 'Wait', Seconds: 60, End: true } },
    };
    const result = await runDefinition(def, {}, { handlers: {}, waitOverrides: { Pause: 3000 } });
    expect(result).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
  });
});
