import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';
import { acknowledgeAwsCustomResourceProvider } from './dms-account-roles';

/**
 * The error IAM returns when the account already has the role ("Service role name … has been taken
 * in this account"): wire code `InvalidInput`, SDK v3 error name `InvalidInputException`. The
 * AwsCustomResource handler matches this pattern against the error name.
 */
export const ROLE_EXISTS_ERROR = '^InvalidInput(Exception)?$';

export interface ServiceLinkedRoleProps {
  /** Service principal the role is linked to, e.g. `opensearchservice.amazonaws.com`. */
  readonly awsServiceName: string;
  /** Name AWS gives the role, e.g. `AWSServiceRoleForAmazonOpenSearchService`; scopes the permission. */
  readonly roleName: string;
}

/**
 * Ensures an account-wide service-linked role exists. `AWS::IAM::ServiceLinkedRole` fails when the
 * role is already there (created by the console, another stage or a sandbox in the same account),
 * and deleting it with the stack would break every other user; so the role is created only if
 * absent, an existing role counts as success, and nothing is ever deleted.
 */
export class ServiceLinkedRole extends Construct {
  /** Depend on this before creating the resource that needs the role. */
  public readonly ready: IDependable;

  constructor(scope: Construct, id: string, props: ServiceLinkedRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const roleArn = stack.formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: `aws-service-role/${props.awsServiceName}/${props.roleName}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const create = new cr.AwsCustomResource(this, 'Create', {
      resourceType: 'Custom::ServiceLinkedRole',
      onUpdate: {
        service: 'IAM',
        action: 'createServiceLinkedRole',
        parameters: { AWSServiceName: props.awsServiceName },
        physicalResourceId: cr.PhysicalResourceId.of(props.roleName),
        ignoreErrorCodesMatching: ROLE_EXISTS_ERROR,
      },
      // No onDelete: the role outlives the stack on purpose.
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['iam:CreateServiceLinkedRole'],
          resources: [roleArn],
          conditions: { StringEquals: { 'iam:AWSServiceName': props.awsServiceName } },
        }),
      ]),
      installLatestAwsSdk: false,
    });
    this.ready = create;
    acknowledgeAwsCustomResourceProvider(stack);
  }
}

/** The role OpenSearch Service needs to place a domain's ENIs in a VPC (not created by CloudFormation). */
export const OPENSEARCH_SERVICE_LINKED_ROLE: ServiceLinkedRoleProps = {
  awsServiceName: 'opensearchservice.amazonaws.com',
  roleName: 'AWSServiceRoleForAmazonOpenSearchService',
};
