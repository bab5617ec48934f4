/**
 * Least privilege for the cutover workflow, the same rule as handler-permissions.test.ts: every AWS call
 * the state machine makes (read from its synthesized definition) and every SDK command its functions send
 * (read from their source) is allowed by the role that makes it, and those roles allow nothing else.
 *
 * The construct is not in a stage yet (the payment stage wires it), so this runs on the bare test stack
 * of test/support/cutover-fixture.ts. Once the stage has it, add cutover-checks and cutover-fence to
 * HANDLERS in handler-permissions.test.ts.
 */
import type { AslState } from '../support/asl';
import { FAKE, synthesizeCutover, type SynthesizedCutover } from '../support/cutover-fixture';
import {
  allows,
  analyseHandler,
  missingActions,
  overlyBroadStatements,
  requiredActions,
  statementsForRole,
  type SdkCall,
  type SourcedStatement,
  type TemplateJson,
} from '../support/sdk-actions';

/** IAM prefix of each Step Functions SDK-integration service name. */
const SERVICE_PREFIX: Record<string, string> = {
  databasemigration: 'dms',
  cloudwatch: 'cloudwatch',
  route53: 'route53',
  ecs: 'ecs',
  ssm: 'ssm',
  elasticloadbalancingv2: 'elasticloadbalancing',
};

/** What Step Functions itself needs for logging at level ALL and X-Ray (added by CDK, not by a task). */
const PLATFORM_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
];

let synth: SynthesizedCutover;
let templates: Record<string, TemplateJson>;
beforeAll(() => {
  synth = synthesizeCutover();
  templates = { CutoverTest: synth.template.toJSON() as TemplateJson };
});

function roleOf(type: string, match: (props: Record<string, unknown>) => boolean): string {
  const found = Object.values(templates.CutoverTest!.Resources ?? {}).filter(
    (r) => r.Type === type && match(r.Properties ?? {}),
  );
  expect(found).toHaveLength(1);
  const role =
    (found[0]!.Properties as { RoleArn?: unknown; Role?: unknown }).RoleArn ??
    (found[0]!.Properties as { Role?: unknown }).Role;
  return (role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
}

/** Actions of the state machine's Task states, with the states that need them. */
function workflowActions(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (action: string, state: string) => out.set(action, [...(out.get(action) ?? []), state]);
  for (const [name, state] of Object.entries(synth.definition.States) as [string, AslState][]) {
    if (state.Type !== 'Task') continue;
    const resource = String(state.Resource);
    const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([a-zA-Z]+)$/.exec(resource);
    if (sdk) {
      const prefix = SERVICE_PREFIX[sdk[1]!];
      if (!prefix) throw new Error(`${name}: no IAM prefix known for ${sdk[1]}`);
      add(`${prefix}:${sdk[2]![0]!.toUpperCase()}${sdk[2]!.slice(1)}`, name);
    } else if (resource.startsWith('arn:aws:states:::sns:publish')) add('sns:Publish', name);
    else if (resource.includes(':lambda:')) add('lambda:InvokeFunction', name);
    else throw new Error(`${name}: unknown resource ${resource}`);
  }
  return out;
}

const allowedActions = (statements: SourcedStatement[]): string[] =>
  statements
    .filter((s) => s.statement.Effect === 'Allow')
    .flatMap((s) => [s.statement.Action ?? []].flat())
    .map(String);

describe('the state machine role', () => {
  let statements: SourcedStatement[];
  beforeAll(() => {
    const roleId = roleOf('AWS::StepFunctions::StateMachine', () => true);
    ({ statements } = statementsForRole(templates, 'CutoverTest', roleId));
  });

  it('allows every call of every Task state', () => {
    const needed = workflowActions();
    expect([...needed.keys()].sort()).toEqual(
      [
        'cloudwatch:DescribeAlarms',
        'cloudwatch:GetMetricData',
        'dms:DescribeReplicationTasks',
        'dms:DescribeTableStatistics',
        'dms:StartReplicationTask',
        'dms:StopReplicationTask',
        'ecs:DescribeServices',
        'ecs:UpdateService',
        'elasticloadbalancing:DescribeTargetHealth',
        'lambda:InvokeFunction',
        'route53:ChangeResourceRecordSets',
        'route53:GetChange',
        'route53:ListResourceRecordSets',
        'sns:Publish',
        'ssm:GetParameter',
        'ssm:PutParameter',
      ].sort(),
    );
    const asCalls = new Map(
      [...needed].map(([action, states]) => [
        action,
        states.map(
          (s) => ({ command: s, clientPackage: 'states', file: 'definition', line: 0, enclosing: s }) as SdkCall,
        ),
      ]),
    );
    expect(missingActions(asCalls, statements)).toEqual([]);
  });

  it('allows nothing else: no wildcard action, nothing beyond the tasks, logging, tracing and the topic key', () => {
    expect(overlyBroadStatements(statements)).toEqual([]);
    const needed = new Set(workflowActions().keys());
    const extra = allowedActions(statements).filter(
      (a) => !needed.has(a) && !PLATFORM_ACTIONS.includes(a) && !a.startsWith('kms:'),
    );
    expect(extra).toEqual([]);
  });

  it('scopes writes to the resources the workflow owns', () => {
    const resourcesOf = (action: string) =>
      JSON.stringify(
        statements.filter((s) => [s.statement.Action].flat().includes(action)).map((s) => s.statement.Resource),
      );
    expect(resourcesOf('route53:ChangeResourceRecordSets')).toContain(`hostedzone/${FAKE.hostedZoneId}`);
    expect(resourcesOf('ssm:PutParameter')).toContain('parameter/payment/dev/cutover/database-pointer');
    expect(resourcesOf('ssm:PutParameter')).not.toContain('command');
    expect(resourcesOf('dms:StopReplicationTask')).toContain(FAKE.forwardTaskArn);
    expect(resourcesOf('ecs:UpdateService')).toContain(FAKE.serviceArn.target);
    expect(resourcesOf('ecs:UpdateService')).not.toContain('"*"');
    expect(allows(statements, 'dms:DeleteReplicationTask').allowed).toBe(false);
    expect(allows(statements, 'route53:DeleteHostedZone').allowed).toBe(false);
  });
});

describe('the functions', () => {
  const functionRole = (service: string) =>
    roleOf('AWS::Lambda::Function', (p) => {
      const vars = (p.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {};
      return vars.POWERTOOLS_SERVICE_NAME === service;
    });

  it.each(['cutover-checks', 'cutover-fence'])('%s: every SDK command it sends is allowed, nothing broad', (folder) => {
    const { statements, managedPolicyArns } = statementsForRole(templates, 'CutoverTest', functionRole(folder));
    const needed = requiredActions(analyseHandler(folder).calls);
    expect(missingActions(needed, statements)).toEqual([]);
    expect(overlyBroadStatements(statements)).toEqual([]);
    expect(managedPolicyArns).toEqual([]);
  });

  it('the checks function calls no AWS API; the fence reads the two admin secrets and nothing else', () => {
    expect([...requiredActions(analyseHandler('cutover-checks').calls).keys()]).toEqual([]);
    expect([...requiredActions(analyseHandler('cutover-fence').calls).keys()]).toEqual([
      'secretsmanager:GetSecretValue',
    ]);
    const { statements } = statementsForRole(templates, 'CutoverTest', functionRole('cutover-fence'));
    const secretResources = JSON.stringify(
      statements.filter((s) => [s.statement.Action].flat().some((a) => String(a).startsWith('secretsmanager:'))),
    );
    expect(secretResources).toContain('payment-dev-source-admin');
    expect(secretResources).toContain('payment-dev-target-admin');
    const checks = statementsForRole(templates, 'CutoverTest', functionRole('cutover-checks')).statements;
    expect(allowedActions(checks).filter((a) => !/^(logs|sqs|xray):/.test(a))).toEqual([]);
  });
});
