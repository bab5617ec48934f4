import { Stage, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { IConstruct } from 'constructs';
import { ManagedReplicationTask } from '../constructs/managed-replication-task';
import { CutoverWorkflow } from '../constructs/payment/cutover-workflow';
import { WeightedServiceRouting } from '../constructs/payment/weighted-service-routing';

/** The two compliance packs the payment stage adds to AwsSolutions. */
export const PAYMENT_COMPLIANCE_PACKS = ['PCI.DSS.321', 'NIST.800.53.R5'] as const;

const AWS_CUSTOM_RESOURCE_PROVIDER = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;

function ackBoth(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge(...PAYMENT_COMPLIANCE_PACKS.map((pack) => ({ id: `${pack}-${rule}`, reason })));
}

/**
 * Findings of the PCI DSS and NIST packs that stand in the payment stage, acknowledged resource by
 * resource (each acknowledgement names the resource it sits on, and the compliance report lists it):
 *
 * - `IAMNoInlinePolicy` on each `AWS::IAM::Policy` that `grant*` / `addToPolicy` attach to exactly one
 *   role. A customer-managed policy would hold the same statements and could be attached elsewhere.
 * - Lambda and log-group rules on control-plane functions only: the DMS task manager handlers, the
 *   custom-resource provider framework and the AwsCustomResource singleton. They call AWS APIs and
 *   never see payment data, so they run outside the VPC, without reserved concurrency and with
 *   service-encrypted logs. The payment service itself runs in ECS with KMS-encrypted logs.
 */
export function acknowledgePaymentStageFindings(stage: Stage): void {
  for (const c of stage.node.findAll()) {
    if (c instanceof iam.CfnPolicy) {
      const owner = c.node.scope?.node.scope;
      ackBoth(
        c,
        'IAMNoInlinePolicy',
        `Statements added by grant*/addToPolicy for ${owner?.node.path ?? 'its role'} only; an AWS::IAM::Policy attached to that role alone (a managed policy would carry the same statements and be attachable elsewhere).`,
      );
    }
  }
  const controlPlane = stage.node
    .findAll()
    .filter((c) => c instanceof ManagedReplicationTask || c.node.id === AWS_CUSTOM_RESOURCE_PROVIDER);
  for (const scope of controlPlane) {
    for (const c of scope.node.findAll()) {
      if (c instanceof lambda.CfnFunction) {
        const why = `${scope.node.path}: a control-plane function that calls AWS APIs only (DMS, IAM) during deployments and never handles payment data.`;
        ackBoth(c, 'LambdaInsideVPC', `${why} It reaches public AWS endpoints, so it runs outside the VPC.`);
        Validations.of(c).acknowledge(
          {
            id: 'NIST.800.53.R5-LambdaConcurrency',
            reason: `${why} It runs once per stack operation; reserved concurrency would only take capacity from the account.`,
          },
          {
            id: 'NIST.800.53.R5-LambdaDLQ',
            reason: `${why} CloudFormation invokes it synchronously through the provider framework and records every failure.`,
          },
        );
      }
    }
  }
  for (const scope of controlPlane) {
    for (const c of scope.node.findAll()) {
      if (c instanceof logs.CfnLogGroup && !c.kmsKeyId) {
        ackBoth(
          c,
          'CloudWatchLogGroupEncrypted',
          `Logs of ${scope.node.path}: task ARNs, states and API errors, no payment data; encrypted at rest by CloudWatch Logs with service keys.`,
        );
      }
    }
  }
  // Run-time control plane: the weighted-record custom resource and the cutover workflow's functions call
  // Route 53, CloudWatch, DMS, ECS and ELB APIs (the fence function runs in the VPC; it reaches the databases).
  const runtimeControl = stage.node
    .findAll()
    .filter((c) => c instanceof WeightedServiceRouting || c instanceof CutoverWorkflow);
  for (const scope of runtimeControl) {
    for (const c of scope.node.findAll()) {
      if (!(c instanceof lambda.CfnFunction)) continue;
      const why = `${c.node.scope?.node.path ?? scope.node.path}: a control-plane function of the cutover that reads and changes routing, replication and service state through AWS APIs; it never handles payment data.`;
      if (!c.vpcConfig) {
        ackBoth(
          c,
          'LambdaInsideVPC',
          `${why} It reaches public AWS endpoints (Route 53 is global), so it runs outside the VPC.`,
        );
      }
      Validations.of(c).acknowledge({
        id: 'NIST.800.53.R5-LambdaConcurrency',
        reason: `${why} One workflow execution or stack operation invokes it at a time; reserved concurrency would only take capacity from the account (and fails in accounts at the minimum unreserved concurrency).`,
      });
      if (!c.deadLetterConfig) {
        Validations.of(c).acknowledge({
          id: 'NIST.800.53.R5-LambdaDLQ',
          reason: `${why} It is invoked synchronously (CloudFormation through the provider framework), which records every failure.`,
        });
      }
    }
  }
}
