import { CustomResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { MigrationFunction } from '../migration-function';

/** One side of the cutover as DNS sees it. */
export interface RoutedEnvironment {
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** Path the Route 53 health check requests, e.g. `/health`; must start with `/`. */
  readonly healthCheckPath: string;
  /** Protocol of the health check (port 443 for HTTPS, 80 for HTTP). */
  readonly protocol: 'HTTP' | 'HTTPS';
}

export interface WeightedServiceRoutingProps {
  readonly hostedZone: route53.IHostedZone;
  /** The service name: relative to the zone (`pay`) or fully qualified (`pay.example.com`). */
  readonly recordName: string;
  readonly source: RoutedEnvironment;
  readonly target: RoutedEnvironment;
  /** Retention of the handler's and provider's log groups. @default ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Removal of those log groups. @default RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Key for the handler's dead-letter queue. @default SQS-managed encryption */
  readonly dlqKey?: kms.IKey;
  /** Key for the handler's and the provider's log groups. @default encrypted by CloudWatch Logs with a service key */
  readonly logKey?: kms.IKey;
}

const HANDLER_NAME = 'weighted-routing';
const RESOURCE_TYPE = 'Custom::WeightedServiceRecords';
/** Weights when the records are first created: all traffic to the source. */
export const INITIAL_WEIGHTS = { source: 100, target: 0 } as const;

/**
 * Weighted alias records `source` and `target` for the payment service name, pointing at the two load balancers,
 * and a Route 53 health check on each load balancer's health path.
 *
 * Two decisions (docs/adr/0013):
 * - **No failover into a replicating target.** Route 53 answers with zero-weight records when every non-zero record
 *   is unhealthy. So the source record carries no health check (Route 53 treats it as always healthy) and the target
 *   record carries the target's: while the target's weight is 0 it is never answered, whatever the source's health;
 *   while traffic is shifted, an unhealthy target drops out and everything goes back to the source. Neither record
 *   evaluates the load balancer's own health. The source's health check still exists for alarms and the workflow.
 * - **Weights belong to the cutover workflow.** The records are written by a custom resource, not by
 *   AWS::Route53::RecordSet (CloudFormation writes the template's weight on every update of a record set). On Update
 *   it reads the live weights and writes them back with the new targets and health checks.
 */
export class WeightedServiceRouting extends Construct {
  /** Fully qualified service name, lower case, with the trailing dot. */
  public readonly recordName: string;
  public readonly recordType = 'A';
  public readonly hostedZone: route53.IHostedZone;
  public readonly sourceSetIdentifier = 'source';
  public readonly targetSetIdentifier = 'target';
  public readonly sourceHealthCheck: route53.HealthCheck;
  public readonly targetHealthCheck: route53.HealthCheck;
  public readonly handler: MigrationFunction;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: WeightedServiceRoutingProps) {
    super(scope, id);
    this.hostedZone = props.hostedZone;
    this.recordName = fullyQualified(props.recordName, props.hostedZone.zoneName, this);
    for (const [side, env] of [
      ['source', props.source],
      ['target', props.target],
    ] as const) {
      if (!Token.isUnresolved(env.healthCheckPath) && !/^\/[\x21-\x7e]{0,254}$/.test(env.healthCheckPath)) {
        throw new Error(
          `${this.node.path}: ${side}.healthCheckPath ${JSON.stringify(env.healthCheckPath)} must start with '/' and be at most 255 printable characters without spaces`,
        );
      }
      assertInternetFacing(env.loadBalancer, side, this);
    }
    this.sourceHealthCheck = healthCheck(this, 'SourceHealthCheck', props.source);
    this.targetHealthCheck = healthCheck(this, 'TargetHealthCheck', props.target);

    this.handler = new MigrationFunction(this, 'Handler', {
      handlerName: HANDLER_NAME,
      description: 'Weighted service records: creates them, updates targets and health checks keeping live weights',
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      timeout: Duration.minutes(5),
      ...(props.logRemovalPolicy !== undefined ? { logRemovalPolicy: props.logRemovalPolicy } : {}),
      ...(props.dlqKey !== undefined ? { dlqKey: props.dlqKey } : {}),
      ...(props.logKey !== undefined ? { logKey: props.logKey } : {}),
    });
    this.grantRecordChanges(this.handler, ['CREATE', 'UPSERT', 'DELETE']);

    const providerLogs = new logs.LogGroup(this, 'ProviderLogGroup', {
      ...(props.logKey !== undefined ? { encryptionKey: props.logKey } : {}),
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const provider = new cr.Provider(this, 'Provider', { onEventHandler: this.handler, logGroup: providerLogs });
    acknowledgeProviderFindings(provider, this.handler);

    const alias = (env: RoutedEnvironment) => ({
      // Route 53 documents the dualstack. form as the alias target of an ELB load balancer.
      AliasDnsName: `dualstack.${env.loadBalancer.loadBalancerDnsName}`,
      AliasHostedZoneId: env.loadBalancer.loadBalancerCanonicalHostedZoneId,
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: RESOURCE_TYPE,
      properties: {
        HostedZoneId: props.hostedZone.hostedZoneId,
        RecordName: this.recordName,
        RecordType: this.recordType,
        Records: [
          // No health check on the source record: see the class comment and docs/adr/0013.
          { SetIdentifier: this.sourceSetIdentifier, InitialWeight: INITIAL_WEIGHTS.source, ...alias(props.source) },
          {
            SetIdentifier: this.targetSetIdentifier,
            InitialWeight: INITIAL_WEIGHTS.target,
            HealthCheckId: this.targetHealthCheck.healthCheckId,
            ...alias(props.target),
          },
        ],
      },
    });
  }

  /** Health check ids by side, for the workflow and alarms (`AWS/Route53` `HealthCheckStatus`, in us-east-1). */
  public get healthCheckIds(): { readonly source: string; readonly target: string } {
    return { source: this.sourceHealthCheck.healthCheckId, target: this.targetHealthCheck.healthCheckId };
  }

  /**
   * Lets the cutover workflow read the live records and health check status and change the records of this name
   * and type (UPSERT only: it cannot create or delete records). IAM cannot limit a change to the weight; the
   * workflow's own code keeps alias targets and health checks as it read them.
   */
  public grantChangeWeights(grantee: iam.IGrantable): iam.Grant {
    const grant = this.grantRecordChanges(grantee, ['UPSERT']);
    if (grantee.grantPrincipal instanceof iam.Role) acknowledgeChangeWildcard(grantee.grantPrincipal);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['route53:GetHealthCheckStatus'],
      resourceArns: [this.sourceHealthCheck, this.targetHealthCheck].map((h) =>
        Stack.of(this).formatArn({
          service: 'route53',
          region: '',
          account: '',
          resource: 'healthcheck',
          resourceName: h.healthCheckId,
        }),
      ),
    });
    return grant;
  }

  private grantRecordChanges(grantee: iam.IGrantable, actions: readonly ('CREATE' | 'UPSERT' | 'DELETE')[]): iam.Grant {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['route53:ListResourceRecordSets'],
      resourceArns: [this.hostedZone.hostedZoneArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['route53:GetChange'],
      resourceArns: [
        stack.formatArn({ service: 'route53', region: '', account: '', resource: 'change', resourceName: '*' }),
      ],
    });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['route53:ChangeResourceRecordSets'],
      resourceArns: [this.hostedZone.hostedZoneArn],
      conditions: {
        // Route 53 condition keys: only this name (normalized: lower case, no trailing dot), type and actions.
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [this.recordName.replace(/\.$/, '')],
          'route53:ChangeResourceRecordSetsRecordTypes': [this.recordType],
          'route53:ChangeResourceRecordSetsActions': [...actions],
        },
      },
    });
  }
}

function healthCheck(scope: Construct, id: string, env: RoutedEnvironment): route53.HealthCheck {
  const https = env.protocol === 'HTTPS';
  return new route53.HealthCheck(scope, id, {
    type: https ? route53.HealthCheckType.HTTPS : route53.HealthCheckType.HTTP,
    fqdn: env.loadBalancer.loadBalancerDnsName,
    port: https ? 443 : 80,
    resourcePath: env.healthCheckPath,
    // Route 53 does not validate the certificate; SNI lets the listener pick one.
    ...(https ? { enableSNI: true } : {}),
    requestInterval: Duration.seconds(10),
    failureThreshold: 3,
  });
}

function fullyQualified(recordName: string, zoneName: string, scope: Construct): string {
  if (Token.isUnresolved(recordName) || Token.isUnresolved(zoneName)) {
    throw new Error(
      `${scope.node.path}: recordName and the hosted zone's name must be known at synthesis (IAM conditions name the record); import the zone with HostedZone.fromHostedZoneAttributes`,
    );
  }
  const zone = zoneName.toLowerCase().replace(/\.$/, '');
  const name = recordName.toLowerCase().replace(/\.$/, '');
  if (name.includes('*')) throw new Error(`${scope.node.path}: recordName must not be a wildcard`);
  const fqdn = name === zone || name.endsWith(`.${zone}`) ? name : `${name}.${zone}`;
  return `${fqdn}.`;
}

/** Route 53 health checkers probe from the internet: an internal load balancer would always look unhealthy. */
function assertInternetFacing(lb: elbv2.IApplicationLoadBalancer, side: string, scope: Construct): void {
  const cfn = lb.node.defaultChild;
  if (cfn instanceof elbv2.CfnLoadBalancer && cfn.scheme === 'internal') {
    throw new Error(
      `${scope.node.path}: the ${side} load balancer is internal; Route 53 health checkers reach endpoints over the internet, so its health check would always fail. Use an internet-facing load balancer.`,
    );
  }
}

function acknowledgeProviderFindings(provider: cr.Provider, handler: lambda.Function): void {
  const stack = Stack.of(provider);
  const v = Validations.of(provider);
  v.acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'The custom resource Provider framework creates its function with the AWS managed basic execution role (write to its own log group); aws-cdk-lib offers no other role shape for it.',
  });
  v.acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(handler.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
    reason: 'The Provider framework grants lambda:InvokeFunction on the handler and its versions (`:*`) only.',
  });
  acknowledgeChangeWildcard(handler.role!);
}

/** Route 53 assigns change ids per request; GetChange can only be scoped to change/* (either partition rendering). */
export function acknowledgeChangeWildcard(scope: IConstruct): void {
  Validations.of(scope).acknowledge(
    ...['arn:<AWS::Partition>:route53:::change/*', 'arn:aws:route53:::change/*'].map((resource) => ({
      id: `AwsSolutions-IAM5[Resource::${resource}]`,
      reason: 'Route 53 assigns change ids per request; route53:GetChange can only be scoped to change/*.',
    })),
  );
}
