import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cdk from 'aws-cdk-lib';
import {
  OPENSEARCH_SERVICE_LINKED_ROLE,
  ROLE_EXISTS_ERROR,
  ServiceLinkedRole,
} from '../../lib/constructs/service-linked-role';
import { resourcesOf, synthStageLive } from '../support/stage-fixture';

/**
 * The Lambda runtime ships `@aws-sdk/client-iam`; this repository does not install it (no new
 * dependencies), so the real AwsCustomResource handler of aws-cdk-lib runs here against a virtual
 * stand-in with the same two exports it looks up: a `*Client` class and `CreateServiceLinkedRoleCommand`.
 */
const iamCalls: { name: string; input: unknown }[] = [];
let iamBehaviour: () => Promise<unknown> = async () => ({});
jest.mock(
  '@aws-sdk/client-iam',
  () => {
    class CreateServiceLinkedRoleCommand {
      constructor(readonly input: unknown) {}
    }
    class IAMClient {
      config = { apiVersion: '2010-05-08', region: async () => 'us-east-1' };
      async send(command: { input: unknown; constructor: { name: string } }) {
        iamCalls.push({ name: command.constructor.name, input: command.input });
        return iamBehaviour();
      }
    }
    return { IAMClient, CreateServiceLinkedRoleCommand };
  },
  { virtual: true },
);

/** The handler file aws-cdk-lib deploys for every AwsCustomResource (not in the package's exports map). */
const HANDLER = path.join(
  path.dirname(require.resolve('aws-cdk-lib')),
  'custom-resource-handlers/dist/custom-resources/aws-custom-resource-handler/index.js',
);

/** IAM's answer when the role exists (error name as SDK v3 raises it, message as IAM sends it). */
function roleTaken(): Error {
  const e = new Error(
    'Service role name AWSServiceRoleForAmazonOpenSearchService has been taken in this account, please try a different suffix.',
  );
  e.name = 'InvalidInputException';
  return e;
}

function accessDenied(): Error {
  const e = new Error('User is not authorized to perform: iam:CreateServiceLinkedRole');
  e.name = 'AccessDeniedException';
  return e;
}

/** Runs aws-cdk-lib's AwsCustomResource handler on a CloudFormation event and returns its response. */
async function invokeHandler(
  requestType: 'Create' | 'Update' | 'Delete',
  properties: Record<string, unknown>,
): Promise<{ Status: string; Reason: string; PhysicalResourceId: string }> {
  const bodies: string[] = [];
  // The CommonJS module object (the handler calls require("https").request), not an ES namespace.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const https = require('https') as typeof import('https');
  const spy = jest.spyOn(https, 'request').mockImplementation(((_opts: unknown, cb: (r: unknown) => void) => {
    const req = new EventEmitter() as EventEmitter & { write: (b: string) => void; end: () => void };
    req.write = (b: string) => bodies.push(b);
    req.end = () => cb({ statusCode: 200 });
    return req;
  }) as unknown as typeof https.request);
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(HANDLER);
    await handler(
      {
        RequestType: requestType,
        ResponseURL: 'https://cloudformation-custom-resource-response.example/response',
        StackId: 'arn:aws:cloudformation:us-west-2:111111111111:stack/Test-Network/1',
        RequestId: 'req-1',
        LogicalResourceId: 'OpenSearchServiceLinkedRole',
        ResourceType: 'Custom::ServiceLinkedRole',
        ...(requestType === 'Create' ? {} : { PhysicalResourceId: OPENSEARCH_SERVICE_LINKED_ROLE.roleName }),
        ResourceProperties: { ...properties },
      },
      { logStreamName: 'stream' },
    );
  } finally {
    spy.mockRestore();
    log.mockRestore();
    err.mockRestore();
  }
  expect(bodies).toHaveLength(1);
  return JSON.parse(bodies[0]!);
}

describe('ServiceLinkedRole (OpenSearch)', () => {
  const app = new App();
  const stack = new Stack(app, 'Slr', { env: { account: '111111111111', region: 'us-west-2' } });
  const slr = new ServiceLinkedRole(stack, 'OpenSearchServiceLinkedRole', OPENSEARCH_SERVICE_LINKED_ROLE);
  // A stand-in for the domain: whatever depends on `ready` must be created after the role.
  const domain = new cdk.CfnResource(stack, 'Domain', { type: 'AWS::OpenSearchService::Domain' });
  domain.node.addDependency(slr.ready);
  const template = Template.fromStack(stack);
  const [[logicalId, props]] = resourcesOf(template, 'Custom::ServiceLinkedRole') as [[string, Record<string, any>]];

  beforeEach(() => {
    iamCalls.length = 0;
  });

  it('creates the role for opensearchservice.amazonaws.com, allowed for that service and role only', () => {
    expect(JSON.parse(props.Create)).toMatchObject({
      service: 'IAM',
      action: 'createServiceLinkedRole',
      parameters: { AWSServiceName: 'opensearchservice.amazonaws.com' },
      ignoreErrorCodesMatching: ROLE_EXISTS_ERROR,
    });
    expect(props.Delete).toBeUndefined();
    const policies = resourcesOf(template, 'AWS::IAM::Policy');
    expect(policies).toHaveLength(1);
    expect(policies[0]![1].PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Action: 'iam:CreateServiceLinkedRole',
        Condition: { StringEquals: { 'iam:AWSServiceName': 'opensearchservice.amazonaws.com' } },
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::111111111111:role/aws-service-role/opensearchservice.amazonaws.com/AWSServiceRoleForAmazonOpenSearchService',
            ],
          ],
        },
      }),
    ]);
  });

  it('makes the domain wait for the role', () => {
    const resources = template.toJSON().Resources as Record<string, { DependsOn?: string[] }>;
    expect(resources.Domain!.DependsOn).toContain(logicalId);
  });

  it('creates the role in an account that lacks it', async () => {
    iamBehaviour = async () => ({ Role: { RoleName: OPENSEARCH_SERVICE_LINKED_ROLE.roleName } });
    const response = await invokeHandler('Create', props);
    expect(iamCalls).toEqual([
      { name: 'CreateServiceLinkedRoleCommand', input: { AWSServiceName: 'opensearchservice.amazonaws.com' } },
    ]);
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'AWSServiceRoleForAmazonOpenSearchService',
    });
  });

  it('succeeds when the account already has the role', async () => {
    iamBehaviour = async () => {
      throw roleTaken();
    };
    const response = await invokeHandler('Create', props);
    expect(iamCalls).toHaveLength(1);
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'AWSServiceRoleForAmazonOpenSearchService',
    });
  });

  it('fails the deploy on any other error, naming it', async () => {
    iamBehaviour = async () => {
      throw accessDenied();
    };
    const response = await invokeHandler('Create', props);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(/not authorized to perform: iam:CreateServiceLinkedRole/);
  });

  it('never deletes the role with the stack', async () => {
    const response = await invokeHandler('Delete', props);
    expect(iamCalls).toEqual([]);
    expect(response.Status).toBe('SUCCESS');
  });
});

describe('OpenSearch service-linked role in the stage', () => {
  // The construct tree itself is asserted on, so this suite synthesizes its own stage.
  const { stage, templates } = synthStageLive('dev');

  it('is ensured in NetworkStack, which LoggingStack (the domain) depends on', () => {
    expect(resourcesOf(templates.Network!, 'Custom::ServiceLinkedRole')).toHaveLength(1);
    expect(resourcesOf(templates.Logging!, 'Custom::ServiceLinkedRole')).toHaveLength(0);
    expect(stage.logging.dependencies).toContain(stage.network);
    const dependsOn = stage.logging.domain.node.dependencies.map((d) => d.node.path);
    expect(dependsOn).toContain(stage.network.openSearchServiceLinkedRole.node.findChild('Create').node.path);
  });
});
