import { Aspects, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';

const HTTPS = ec2.Port.tcp(443);
const NTP = ec2.Port.udp(123);
/** Root volume of the Amazon Linux 2023 image, stated so that it is encrypted and the cost report can price it. */
const ROOT_VOLUME: ec2.CfnInstance.BlockDeviceMappingProperty = {
  deviceName: '/dev/xvda',
  ebs: { volumeSize: 8, volumeType: 'gp3', encrypted: true },
};

/**
 * NAT instances in place of NAT gateways (`network.natProvider: { kind: 'instance' }`, dev only): the
 * provider goes into the VPC's props. Standard CPU credits keep the monthly charge fixed; the public
 * address is explicit because the instance forwards through it.
 */
export function natInstanceProvider(instanceType: string): ec2.NatInstanceProviderV2 {
  return ec2.NatProvider.instanceV2({
    instanceType: new ec2.InstanceType(instanceType),
    // No rule from aws-cdk-lib (it would open every port to 0.0.0.0/0): secureNatInstances opens them.
    defaultAllowedTraffic: ec2.NatTrafficDirection.NONE,
    associatePublicIpAddress: true,
    creditSpecification: ec2.CpuCredits.STANDARD,
  });
}

/**
 * Once the VPC has made the instances: IMDSv2, an encrypted root volume, and a security group that lets
 * in only the VPC and forwards only what the private workloads send out (HTTPS to AWS APIs and the
 * DataSync service, NTP for the agent clock), the same ports their own groups allow.
 */
export function secureNatInstances(provider: ec2.NatInstanceProviderV2, vpc: ec2.IVpc): void {
  const group = provider.securityGroup;
  for (const port of [HTTPS, NTP]) {
    group.addIngressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), port, 'Private subnets of this VPC');
    group.addEgressRule(ec2.Peer.anyIpv4(), port, 'Forwarded to the internet');
  }
  Validations.of(group).acknowledge({
    id: 'AwsSolutions-EC23',
    reason: 'Ingress is the VPC CIDR (a token cdk-nag cannot read) on 443 and 123 only, not 0.0.0.0/0.',
  });
  for (const instance of provider.gatewayInstances) {
    Aspects.of(instance).add(new ec2.InstanceRequireImdsv2Aspect());
    // NatInstanceProviderV2 takes no block devices; set on the L1 so cdk-nag and cfn-guard see it too.
    instance.instance.blockDeviceMappings = [ROOT_VOLUME];
    Validations.of(instance).acknowledge(
      {
        id: 'AwsSolutions-EC28',
        reason:
          'Dev-only NAT instance (staging and prod use NAT gateways): basic 5-minute metrics are enough; detailed monitoring would add $2.10 a month to a $3 instance.',
      },
      {
        id: 'AwsSolutions-EC29',
        reason:
          'Dev-only NAT instance holding no state: the VPC stack replaces it, and termination protection would block tearing dev down.',
      },
    );
  }
}
