import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { natInstanceProvider, secureNatInstances } from '../../lib/constructs/nat-instances';
import { unacknowledgedAwsSolutionsFindings } from '../support/nag';

const ENV = { account: '111111111111', region: 'us-east-1' };

type Properties = Record<string, any>; // template JSON

/** A small VPC whose NAT is one instance from the provider, secured as the network stack does. */
function build(instanceType = 't4g.nano') {
  const app = new App();
  const stack = new Stack(app, 'Network', { env: ENV });
  const provider = natInstanceProvider(instanceType);
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    natGatewayProvider: provider,
    flowLogs: { All: { trafficType: ec2.FlowLogTrafficType.ALL } },
  });
  secureNatInstances(provider, vpc);
  const template = Template.fromStack(stack);
  const of = (type: string) =>
    Object.entries(template.findResources(type)).map(([id, r]) => [id, (r as { Properties: Properties }).Properties]);
  return { stack, vpc, provider, template, of };
}

describe('NAT instances', () => {
  const { stack, vpc, template, of } = build();
  const vpcCidr = stack.resolve(vpc.vpcCidrBlock);

  it('runs one small instance with standard credits, a public address and an encrypted gp3 root volume', () => {
    const instances = of('AWS::EC2::Instance');
    expect(instances).toHaveLength(1);
    expect(instances[0]![1]).toMatchObject({
      InstanceType: 't4g.nano',
      SourceDestCheck: false,
      CreditSpecification: { CPUCredits: 'standard' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, VolumeType: 'gp3', Encrypted: true } }],
      NetworkInterfaces: [expect.objectContaining({ DeviceIndex: '0', AssociatePublicIpAddress: true })],
    });
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('takes the instance type it is given', () => {
    build('t4g.micro').template.hasResourceProperties('AWS::EC2::Instance', { InstanceType: 't4g.micro' });
  });

  it('requires IMDSv2 through the launch template attached to the instance', () => {
    const [[templateId]] = of('AWS::EC2::LaunchTemplate').filter(
      ([, p]) => (p as Properties).LaunchTemplateData?.MetadataOptions?.HttpTokens === 'required',
    ) as [[string]];
    expect(of('AWS::EC2::Instance')[0]![1]).toMatchObject({
      LaunchTemplate: { Version: { 'Fn::GetAtt': [templateId, 'LatestVersionNumber'] } },
    });
  });

  it('lets in only the VPC and forwards only HTTPS and NTP', () => {
    const groups = of('AWS::EC2::SecurityGroup').filter(
      ([, p]) => (p as Properties).GroupDescription === 'Security Group for NAT instances',
    );
    expect(groups).toHaveLength(1);
    const group = groups[0]![1] as Properties;
    const rule = (r: Properties) => `${r.IpProtocol}/${r.FromPort}-${r.ToPort}/${JSON.stringify(r.CidrIp)}`;
    expect((group.SecurityGroupIngress as Properties[]).map(rule).sort()).toEqual(
      [`tcp/443-443/${JSON.stringify(vpcCidr)}`, `udp/123-123/${JSON.stringify(vpcCidr)}`].sort(),
    );
    expect((group.SecurityGroupEgress as Properties[]).map(rule).sort()).toEqual(
      ['tcp/443-443/"0.0.0.0/0"', 'udp/123-123/"0.0.0.0/0"'].sort(),
    );
    expect(of('AWS::EC2::SecurityGroupIngress')).toEqual([]);
    expect(of('AWS::EC2::SecurityGroupEgress')).toEqual([]);
  });

  it('leaves no unacknowledged AwsSolutions finding', () => {
    expect(unacknowledgedAwsSolutionsFindings(stack)).toEqual([]);
  });
});
