/**
 * SmokeTestAccess in a bare stack with an imported (encrypted) bucket and state machine: who may
 * assume the role, what it may do, the output the pipeline reads, and its nag acknowledgements.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { SmokeTestAccess, smokeTestRoleName } from '../../lib/constructs/smoke-test-access';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';

const ACCOUNT = '123456789012';
const PIPELINE_ACCOUNT = '111111111111';
const BUCKET = 'migration-data-dev-test';
const KEY_ARN = `arn:aws:kms:us-west-2:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const WORKFLOW = 'ReplicationWorkflow-abc123';
const STATE_MACHINE_ARN = `arn:aws:states:us-west-2:${ACCOUNT}:stateMachine:${WORKFLOW}`;
const SMOKE_PREFIXES = ['incoming/smoke/', 'validated/smoke/', 'quarantine/smoke/', 'reports/smoke/'];

function build() {
  const app = new App();
  const stack = new Stack(app, 'Orchestration', { env: { account: ACCOUNT, region: 'us-west-2' } });
  const access = new SmokeTestAccess(stack, 'SmokeTestAccess', {
    envName: 'dev',
    trustedAccount: PIPELINE_ACCOUNT,
    dataBucket: s3.Bucket.fromBucketAttributes(stack, 'DataBucket', {
      bucketName: BUCKET,
      encryptionKey: kms.Key.fromKeyArn(stack, 'DataKey', KEY_ARN),
    }),
    stateMachine: sfn.StateMachine.fromStateMachineArn(stack, 'Workflow', STATE_MACHINE_ARN),
  });
  return { app, stack, access, template: Template.fromStack(stack) };
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

describe('SmokeTestAccess', () => {
  const { app, stack, access, template } = build();
  const statements: Statement[] = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
  const withAction = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));

  it('is the role migration-smoke-<env>, assumable by the pipeline account for an hour at most', () => {
    expect(smokeTestRoleName('dev')).toBe('migration-smoke-dev');
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'migration-smoke-dev',
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: {
              AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${PIPELINE_ACCOUNT}:root`]] },
            },
          },
        ],
      },
    });
  });

  it('writes only under incoming/smoke/, and reads and deletes only under the smoke/ sub-prefixes', () => {
    const objectResources = (action: string) =>
      withAction(action).flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r)));
    expect(objectResources('s3:PutObject')).toEqual([expect.stringContaining(`${BUCKET}/incoming/smoke/*`)]);
    for (const action of ['s3:GetObject*', 's3:DeleteObject*', 's3:DeleteObjectVersion']) {
      const resources = objectResources(action).filter((r) => r.includes('/'));
      expect(resources).toHaveLength(SMOKE_PREFIXES.length);
      for (const prefix of SMOKE_PREFIXES) expect(resources.some((r) => r.includes(`${BUCKET}/${prefix}*`))).toBe(true);
    }
    expect(withAction('s3:ListBucket')).toEqual([
      expect.objectContaining({ Condition: { StringLike: { 's3:prefix': SMOKE_PREFIXES } } }),
    ]);
    // Everything else a bucket grant adds is on the bucket itself or under the smoke prefixes.
    for (const s of statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:')))) {
      for (const r of [s.Resource].flat().map((x) => JSON.stringify(x))) {
        expect(r.endsWith(`${BUCKET}"]]}`) || SMOKE_PREFIXES.some((p) => r.includes(`/${p}*`))).toBe(true);
      }
    }
  });

  it('uses the data key, and no other', () => {
    const kmsStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    expect(kmsStatements.length).toBeGreaterThan(0);
    for (const s of kmsStatements) expect(s.Resource).toBe(KEY_ARN);
  });

  it('lists the executions of the workflow and describes them, and nothing else of Step Functions', () => {
    const states = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('states:')));
    expect(states.flatMap((s) => [s.Action].flat()).sort()).toEqual([
      'states:DescribeExecution',
      'states:ListExecutions',
    ]);
    expect(withAction('states:ListExecutions')[0]!.Resource).toBe(STATE_MACHINE_ARN);
    expect(JSON.stringify(withAction('states:DescribeExecution')[0]!.Resource)).toContain(
      `:states:us-west-2:${ACCOUNT}:execution:${WORKFLOW}:*`,
    );
  });

  it('declares the role ARN as the stack output SmokeTestRoleArn, which the pipeline reads', () => {
    const roleId = stack.getLogicalId(access.role.node.defaultChild as never);
    template.hasOutput('SmokeTestRoleArn', { Value: { 'Fn::GetAtt': [roleId, 'Arn'] } });
    expect(template.findOutputs('*', Match.anyValue())).toEqual({ SmokeTestRoleArn: expect.anything() });
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(app)).toEqual([]);
  });
});
