import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import {
  AslValidationError,
  definitionFromTemplate,
  runDefinition,
  taskError,
  TemplateResolutionError,
  type AslDefinition,
  type Json,
} from './asl';

describe('definitionFromTemplate', () => {
  const machine = (definitionString: unknown) => ({
    Type: 'AWS::StepFunctions::StateMachine',
    Properties: { DefinitionString: definitionString },
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

  /** A one-state definition whose Task resource and TopicArn are the given (unresolved) values. */
  const publishing = (resource: unknown, topicArn: unknown) =>
    machine({
      'Fn::Join': [
        '',
        [
          '{"StartAt":"Publish","States":{"Publish":{"Type":"Task","Resource":"',
          resource,
          '","Parameters":{"TopicArn":"',
          topicArn,
          '","Message":"hello"},"End":true}}}',
        ],
      ],
    });
  const SNS_PUBLISH = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:::sns:publish']] };
  const TOPIC_ARN = {
    'Fn::Join': [
      ':',
      ['arn', { Ref: 'AWS::Partition' }, 'sns', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, 'out'],
    ],
  };

  it('resolves Fn::Join and the pseudo parameters into the JSON text, with defaults and with options', () => {
    const tpl = { Resources: { SM: publishing(SNS_PUBLISH, TOPIC_ARN) } };
    expect(definitionFromTemplate(tpl).States.Publish).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::sns:publish',
      Parameters: { TopicArn: 'arn:aws:sns:us-west-2:123456789012:out', Message: 'hello' },
      End: true,
    });
    const other = definitionFromTemplate(tpl, undefined, { region: 'eu-west-1', account: '210987654321' });
    expect((other.States.Publish!.Parameters as Record<string, string>).TopicArn).toBe(
      'arn:aws:sns:eu-west-1:210987654321:out',
    );
  });

  it('gives a Lambda function of the same template its ARN, by FunctionName or logical id', () => {
    const invoking = (id: string) =>
      publishing({ 'Fn::GetAtt': [id, 'Arn'] }, 'arn:aws:sns:us-west-2:123456789012:out');
    const resources = {
      Handler: { Type: 'AWS::Lambda::Function', Properties: {} },
      Named: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'cutover-checks-dev' } },
    };
    const resourceOf = (id: string) =>
      definitionFromTemplate({ Resources: { ...resources, SM: invoking(id) } }).States.Publish!.Resource;
    expect(resourceOf('Handler')).toBe('arn:aws:lambda:us-west-2:123456789012:function:Handler');
    expect(resourceOf('Named')).toBe('arn:aws:lambda:us-west-2:123456789012:function:cutover-checks-dev');
  });

  it('names what it does not resolve: an input that was not imported as a literal', () => {
    const tpl = (topicArn: unknown) => ({
      Resources: { Topic: { Type: 'AWS::SNS::Topic' }, SM: publishing(SNS_PUBLISH, topicArn) },
    });
    expect(() => definitionFromTemplate(tpl({ Ref: 'Topic' }))).toThrow(
      /SM\.DefinitionString.*: Ref "Topic" is not resolved by the test harness; import the input by name or ARN/,
    );
    expect(() => definitionFromTemplate(tpl({ 'Fn::ImportValue': 'Messaging:TopicArn' }))).toThrow(
      /Fn::ImportValue "Messaging:TopicArn" is not resolved/,
    );
    expect(() => definitionFromTemplate(tpl({ 'Fn::GetAtt': ['Topic', 'TopicArn'] }))).toThrow(TemplateResolutionError);
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
  const topic = sns.Topic.fromTopicArn(stack, 'Outcome', 'arn:aws:sns:us-west-2:111111111111:outcome');
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

  it('resolves the SDK integration and keeps the imported topic', () => {
    const describeState = definition.States.DescribeTask!;
    expect(describeState.Resource).toBe('arn:aws:states:::aws-sdk:databasemigration:describeReplicationTasks');
    expect((definition.States.PublishOutcome!.Parameters as Record<string, string>).TopicArn).toBe(
      'arn:aws:sns:us-west-2:111111111111:outcome',
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
