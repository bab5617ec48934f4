import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app-builder';
import { ENVIRONMENTS } from '../../lib/config/environments';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { MigrationStage } from '../../stages/migration-stage';
import { PIPELINE_APP_CONTEXT, SHELL_ALARM_EMAIL, synthPipelineApp } from '../support/pipeline-app-fixture';
import { CDK_JSON_CONTEXT } from '../support/stage-fixture';

/** What a developer's shell and CLI might carry that the pipeline's CodeBuild synth does not. */
const LAPTOP_CONTEXT = {
  devAlarmEmail: 'me@example.com',
  openSearchAdminRoleArn: 'arn:aws:iam::222222222222:role/my-admin',
};

function templatesOf(stage: MigrationStage): Record<string, Template> {
  const out: Record<string, Template> = {};
  for (const c of stage.node.children) if (c instanceof Stack) out[c.node.id] = Template.fromStack(c);
  return out;
}

describe('the pipeline synthesizes the same stage as a laptop', () => {
  const saved = process.env.ALARM_EMAIL;
  afterAll(() => {
    if (saved === undefined) delete process.env.ALARM_EMAIL;
    else process.env.ALARM_EMAIL = saved;
  });

  it('takes alarm e-mail and admin role from committed config, never from the shell', () => {
    process.env.ALARM_EMAIL = SHELL_ALARM_EMAIL;
    const config = loadEnvironmentConfig('dev', (k) => (LAPTOP_CONTEXT as Record<string, string>)[k]);
    expect(config.alarmEmail).toBe(ENVIRONMENTS.dev.alarmEmail);
    expect(config.openSearch.adminRoleArn).toBe(ENVIRONMENTS.dev.openSearch.adminRoleArn);
  });

  it('gives the dev stage of the pipeline and a dev sandbox the same topics and domain access', () => {
    process.env.ALARM_EMAIL = SHELL_ALARM_EMAIL;
    // The pipeline's app (shared with test/pipeline) is built with the same shell e-mail set.
    const viaPipeline = synthPipelineApp().devStage;
    const common = { ...CDK_JSON_CONTEXT, cfnGuard: 'false', devAccount: PIPELINE_APP_CONTEXT.devAccount };
    const sandboxApp = buildApp({ context: { ...common, ...LAPTOP_CONTEXT, sandbox: 'alice' } });
    sandboxApp.synth();
    const viaLaptop = templatesOf(sandboxApp.node.findChild('Sandbox-alice') as MigrationStage);

    expect(viaLaptop.Messaging!.toJSON()).toEqual(viaPipeline.Messaging!.toJSON());
    const setup = (t: Record<string, Template>) =>
      Object.values(t.Logging!.findResources('Custom::OpenSearchAuditSetup')).map(
        (r) => (r as { Properties: Record<string, unknown> }).Properties.AdminRoleArn,
      );
    expect(setup(viaLaptop)).toEqual(setup(viaPipeline));
    const accessPolicyPrincipals = (t: Record<string, Template>) =>
      JSON.stringify(t.Logging!.toJSON()).match(/arn:aws:iam::\d{12}:role\/[\w-]+/g) ?? [];
    expect(accessPolicyPrincipals(viaLaptop)).toEqual(accessPolicyPrincipals(viaPipeline));
  });
});
