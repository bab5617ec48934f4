import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { EnvironmentConfig } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { MigrationStage } from '../../stages/migration-stage';
import { synthStage } from '../support/stage-fixture';
import {
  actionMatches,
  allows,
  analyseHandler,
  iamActionsFor,
  missingActions,
  overlyBroadStatements,
  requiredActions,
  type SourcedStatement,
  statementsForRole,
  type TemplateJson,
} from '../support/sdk-actions';

/**
 * "For each handler, every SDK command it sends is allowed by its role in the synthesized template, and none
 * of those roles allows a wildcard action." The source side comes from test/support/sdk-actions.ts (commands
 * reachable from the handler's entry), the role side from the synthesized stage.
 */

interface HandlerSpec {
  /** Folder under lambda/. */
  readonly folder: string;
  /** POWERTOOLS_SERVICE_NAME of its function(s). @default folder */
  readonly serviceName?: string;
  /**
   * Handlers deployed once per custom-resource phase (CUSTOM_RESOURCE_PHASE) give each phase's entry
   * functions, so each role is held to what that phase runs.
   */
  readonly phases?: Readonly<Record<string, readonly string[]>>;
  /**
   * Actions the source can send only under some configuration. When `applies` is false for the config the
   * stage was built with, they are not required, and the role must NOT allow them (least privilege by config).
   */
  readonly conditional?: readonly {
    readonly phase?: string;
    readonly actions: readonly string[];
    readonly applies: (config: EnvironmentConfig) => boolean;
    readonly why: string;
  }[];
}

const HANDLERS: readonly HandlerSpec[] = [
  { folder: 'glue-trigger' },
  { folder: 'sfn-trigger' },
  { folder: 'remediation' },
  {
    folder: 'datasync-agent-setup',
    phases: { onEvent: ['onAgentEvent', 'onTransferEvent'], isComplete: ['isAgentComplete', 'isTransferComplete'] },
    conditional: [
      {
        phase: 'onEvent',
        actions: ['datasync:CreateLocationSmb', 'secretsmanager:GetSecretValue'],
        applies: (c) => c.dataSync.source.protocol === 'SMB',
        why: 'an SMB source location and its password secret',
      },
      {
        phase: 'onEvent',
        actions: ['datasync:CreateLocationNfs'],
        applies: (c) => c.dataSync.source.protocol === 'NFS',
        why: 'an NFS source location',
      },
    ],
  },
  { folder: 'dms-task-manager', phases: { onEvent: ['onTaskEvent'], isComplete: ['isTaskComplete'] } },
  { folder: 'opensearch-setup' },
  { folder: 'opensearch-setup/log-transform', serviceName: 'audit-log-transform' },
];

/**
 * The stage's templates. The shared fixture (cdk-nag on) comes first; while the stage does not synthesize
 * with it, the same stage is synthesized with the project's cdk.json feature flags and nag off, so the
 * IAM check still runs against the real roles. Which one was used is printed.
 */
function stageTemplates(): { templates: Record<string, TemplateJson>; how: string } {
  try {
    const { templates } = synthStage('dev');
    return {
      templates: Object.fromEntries(Object.entries(templates).map(([id, t]) => [id, t.toJSON() as TemplateJson])),
      how: "synthStage('dev') from test/support/stage-fixture.ts",
    };
  } catch (fixtureError) {
    const projectRoot = path.resolve(__dirname, '..', '..');
    const cdkJson = JSON.parse(fs.readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as { context?: object };
    const app = new App({
      outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-iam-')),
      context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    });
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    const stage = new MigrationStage(app, 'Test', { config, env: { region: config.region }, nagChecks: false });
    app.synth();
    const templates: Record<string, TemplateJson> = {};
    for (const child of stage.node.children) {
      if (child instanceof Stack) templates[child.node.id] = Template.fromStack(child).toJSON() as TemplateJson;
    }
    const reason = (fixtureError as Error).message.split('\n')[0];
    return {
      templates,
      how: `MigrationStage with cdk.json context and nagChecks off, because synthStage('dev') threw: ${reason}`,
    };
  }
}

interface FoundFunction {
  readonly stack: string;
  readonly functionId: string;
  readonly roleId: string;
  readonly phase?: string;
}

function functionsOf(templates: Record<string, TemplateJson>, serviceName: string): FoundFunction[] {
  const out: FoundFunction[] = [];
  for (const [stack, template] of Object.entries(templates)) {
    for (const [functionId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const props = resource.Properties as
        { Environment?: { Variables?: Record<string, string> }; Role?: { 'Fn::GetAtt'?: string[] } } | undefined;
      const vars = props?.Environment?.Variables ?? {};
      if (vars.POWERTOOLS_SERVICE_NAME !== serviceName) continue;
      const [roleId, attribute] = props?.Role?.['Fn::GetAtt'] ?? [];
      if (roleId === undefined || attribute !== 'Arn')
        throw new Error(`${stack}/${functionId}: Role is not a GetAtt of a role in its stack`);
      out.push({
        stack,
        functionId,
        roleId,
        ...(vars.CUSTOM_RESOURCE_PHASE ? { phase: vars.CUSTOM_RESOURCE_PHASE } : {}),
      });
    }
  }
  return out;
}

describe('SDK actions read from handler source', () => {
  test('the Glue trigger needs exactly what its code sends', () => {
    expect([...requiredActions(analyseHandler('glue-trigger').calls).keys()].sort()).toEqual(
      [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'glue:GetJobRuns',
        'glue:StartJobRun',
        'sqs:ChangeMessageVisibility',
        'sqs:SendMessage',
      ].sort(),
    );
  });

  test("shared code counts only where the handler reaches it (remediation's attempt counters are not the Glue trigger's)", () => {
    const trigger = analyseHandler('glue-trigger');
    expect(trigger.unreachableCalls.map((c) => `${c.command} in ${c.enclosing}`)).toEqual(
      expect.arrayContaining(['UpdateCommand in advanceAttempts', 'PutCommand in bumpWindowedCounter']),
    );
    expect(requiredActions(analyseHandler('remediation').calls).get('dynamodb:UpdateItem')).toBeDefined();
  });

  test('the quarantine copy of an exact version needs the version read action', () => {
    const needed = requiredActions(analyseHandler('remediation').calls);
    for (const action of ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:AbortMultipartUpload']) {
      expect(needed.has(action)).toBe(true);
    }
  });

  test('a command loaded through require() is attributed to the required package', () => {
    const calls = analyseHandler('datasync-agent-setup', { roots: ['onTransferEvent'] }).calls;
    expect(calls.find((c) => c.command === 'GetSecretValueCommand')?.clientPackage).toBe(
      '@aws-sdk/client-secrets-manager',
    );
  });

  test.each([
    [{ command: 'StartJobRunCommand', clientPackage: '@aws-sdk/client-glue', versioned: false }, ['glue:StartJobRun']],
    [
      { command: 'StartExecutionCommand', clientPackage: '@aws-sdk/client-sfn', versioned: false },
      ['states:StartExecution'],
    ],
    [{ command: 'HeadObjectCommand', clientPackage: '@aws-sdk/client-s3', versioned: false }, ['s3:GetObject']],
    [
      { command: 'GetObjectCommand', clientPackage: '@aws-sdk/client-s3', versioned: true },
      ['s3:GetObject', 's3:GetObjectVersion'],
    ],
    [
      { command: 'CopyObjectCommand', clientPackage: '@aws-sdk/client-s3', versioned: false },
      ['s3:GetObject', 's3:PutObject'],
    ],
    [
      { command: 'UploadPartCopyCommand', clientPackage: '@aws-sdk/client-s3', versioned: false },
      ['s3:GetObject', 's3:PutObject'],
    ],
    [
      { command: 'CreateMultipartUploadCommand', clientPackage: '@aws-sdk/client-s3', versioned: false },
      ['s3:PutObject'],
    ],
    [
      { command: 'CompleteMultipartUploadCommand', clientPackage: '@aws-sdk/client-s3', versioned: false },
      ['s3:PutObject'],
    ],
    [
      { command: 'AbortMultipartUploadCommand', clientPackage: '@aws-sdk/client-s3', versioned: false },
      ['s3:AbortMultipartUpload'],
    ],
    [
      { command: 'ListObjectVersionsCommand', clientPackage: '@aws-sdk/client-s3', versioned: false },
      ['s3:ListBucketVersions'],
    ],
    [{ command: 'ListObjectsV2Command', clientPackage: '@aws-sdk/client-s3', versioned: false }, ['s3:ListBucket']],
    [{ command: 'SendMessageCommand', clientPackage: '@aws-sdk/client-sqs', versioned: false }, ['sqs:SendMessage']],
    [
      { command: 'SendMessageBatchCommand', clientPackage: '@aws-sdk/client-sqs', versioned: false },
      ['sqs:SendMessage'],
    ],
    [
      { command: 'UpdateItemCommand', clientPackage: '@aws-sdk/client-dynamodb', versioned: false },
      ['dynamodb:UpdateItem'],
    ],
    [{ command: 'PutCommand', clientPackage: '@aws-sdk/lib-dynamodb', versioned: false }, ['dynamodb:PutItem']],
    [{ command: 'GetCommand', clientPackage: '@aws-sdk/lib-dynamodb', versioned: false }, ['dynamodb:GetItem']],
    [{ command: 'UpdateCommand', clientPackage: '@aws-sdk/lib-dynamodb', versioned: false }, ['dynamodb:UpdateItem']],
    [{ command: 'DeleteCommand', clientPackage: '@aws-sdk/lib-dynamodb', versioned: false }, ['dynamodb:DeleteItem']],
    [
      { command: 'TransactWriteCommand', clientPackage: '@aws-sdk/lib-dynamodb', versioned: false },
      ['dynamodb:TransactWriteItems'],
    ],
    [{ command: 'QueryCommand', clientPackage: '@aws-sdk/lib-dynamodb', versioned: false }, ['dynamodb:Query']],
    [
      {
        command: 'StartReplicationTaskCommand',
        clientPackage: '@aws-sdk/client-database-migration-service',
        versioned: false,
      },
      ['dms:StartReplicationTask'],
    ],
    [
      { command: 'GetSecretValueCommand', clientPackage: '@aws-sdk/client-secrets-manager', versioned: false },
      ['secretsmanager:GetSecretValue'],
    ],
  ])('%j needs %j', (call, actions) => {
    expect(iamActionsFor(call)).toEqual(actions);
  });

  test('the state table is read through the Document client: its commands are found and attributed', () => {
    const commands = analyseHandler('sfn-trigger').calls.map((c) => `${c.command} from ${c.clientPackage}`);
    expect(commands).toContain('GetCommand from @aws-sdk/lib-dynamodb');
    expect(() =>
      iamActionsFor({ command: 'PutAllCommand', clientPackage: '@aws-sdk/lib-dynamodb', versioned: false }),
    ).toThrow('PutAllCommand is not a Document client command this check knows');
  });

  test('a command whose package cannot be told is an error, not a skipped call', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-actions-'));
    fs.mkdirSync(path.join(root, 'mystery'));
    fs.writeFileSync(
      path.join(root, 'mystery', 'index.ts'),
      "import { StartThingCommand } from './things';\nexport async function handler() { return new StartThingCommand({}); }\n",
    );
    fs.writeFileSync(
      path.join(root, 'mystery', 'things.ts'),
      'export class StartThingCommand { constructor(_: object) {} }\n',
    );
    expect(() => analyseHandler('mystery', { lambdaRoot: root })).toThrow(
      /StartThingCommand.*not imported from an @aws-sdk\/client-\* package/,
    );
  });
});

describe('the policy checker', () => {
  const stmt = (Action: string | string[], Effect = 'Allow'): SourcedStatement => ({
    source: 'test',
    statement: { Effect, Action, Resource: '*' },
  });

  test('IAM wildcards in actions match case-insensitively', () => {
    expect(actionMatches('s3:GetObject*', 's3:GetObjectVersion')).toBe(true);
    expect(actionMatches('s3:GetObject*', 's3:PutObject')).toBe(false);
    expect(actionMatches('Glue:startjobrun', 'glue:StartJobRun')).toBe(true);
    expect(actionMatches('sqs:Send?essage', 'sqs:SendMessage')).toBe(true);
  });

  test('reports an action a role lacks, with the source line that sends it', () => {
    const needed = requiredActions(analyseHandler('glue-trigger').calls);
    const statements = [
      stmt(['glue:GetJobRuns', 'sqs:SendMessage', 'sqs:ChangeMessageVisibility', 'sns:Publish', 'dynamodb:*Item']),
    ];
    const missing = missingActions(needed, statements);
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(
      /^glue:StartJobRun — no Allow statement names it — needed by StartJobRunCommand at lambda\/glue-trigger\/start-validation\.ts:\d+/,
    );
    expect(missingActions(needed, [...statements, stmt('glue:StartJobRun')])).toEqual([]);
  });

  test('an explicit Deny wins over an Allow', () => {
    expect(allows([stmt('glue:StartJobRun'), stmt('glue:Start*', 'Deny')], 'glue:StartJobRun').allowed).toBe(false);
  });

  test('flags "*", "<service>:*" and Allow with NotAction, but not narrower wildcards', () => {
    const broad = overlyBroadStatements([
      stmt('*'),
      stmt(['glue:GetJobRun', 'glue:*']),
      { source: 'test', statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } },
      stmt('s3:GetObject*'),
      stmt('*', 'Deny'),
    ]);
    expect(broad).toEqual(['test: Action *', 'test: Action glue:*', 'test: Allow with NotAction "iam:*"']);
  });
});

describe('handler roles in the synthesized stage', () => {
  const config = loadEnvironmentConfig('dev', () => undefined, {});
  const { templates, how } = stageTemplates();
  const checked: string[] = [];
  const skipped: string[] = [];

  afterAll(() => {
    console.log(
      [
        `IAM check ran on: ${how}`,
        `checked: ${checked.join(', ') || 'none'}`,
        `missing from the stage: ${skipped.join(', ') || 'none'}`,
      ].join('\n'),
    );
  });

  for (const spec of HANDLERS) {
    const serviceName = spec.serviceName ?? spec.folder;
    const found = fs.existsSync(path.resolve(__dirname, '..', '..', 'lambda', spec.folder, 'index.ts'))
      ? functionsOf(templates, serviceName)
      : [];
    if (found.length === 0) {
      // Every handler the project ships must be deployed (and so checked) by the stage.
      skipped.push(spec.folder);
      test(`${spec.folder}: has a function with POWERTOOLS_SERVICE_NAME=${serviceName} in the stage`, () => {
        throw new Error(`no function for handler ${spec.folder} in the synthesized stage`);
      });
      continue;
    }
    for (const fn of found) {
      const label = `${spec.folder}${fn.phase ? ` (${fn.phase})` : ''} — ${fn.stack}/${fn.functionId}`;
      checked.push(label);
      const roots = spec.phases && fn.phase ? spec.phases[fn.phase] : undefined;
      if (spec.phases && roots === undefined) {
        test(`${label}: phase is one the test knows`, () => {
          throw new Error(`CUSTOM_RESOURCE_PHASE ${fn.phase} has no entry functions in HANDLERS`);
        });
        continue;
      }

      const { statements, managedPolicyArns } = statementsForRole(templates, fn.stack, fn.roleId);
      const notForThisConfig = (spec.conditional ?? []).filter(
        (c) => (c.phase === undefined || c.phase === fn.phase) && !c.applies(config),
      );

      test(`${label}: every SDK command it sends is allowed by its role`, () => {
        const needed = requiredActions(analyseHandler(spec.folder, roots ? { roots } : {}).calls);
        for (const { actions } of notForThisConfig) for (const action of actions) needed.delete(action);
        expect(missingActions(needed, statements)).toEqual([]);
      });

      if (notForThisConfig.length > 0) {
        test(`${label}: its role does not allow what only another configuration needs`, () => {
          const granted = notForThisConfig.flatMap(({ actions, why }) =>
            actions.filter((a) => allows(statements, a).allowed).map((a) => `${a} (only for ${why})`),
          );
          expect(granted).toEqual([]);
        });
      }

      test(`${label}: its role allows no "*" or "<service>:*" action and has no AWS-managed policy`, () => {
        expect(overlyBroadStatements(statements)).toEqual([]);
        expect(managedPolicyArns).toEqual([]);
      });
    }
  }
});
