import { Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ENV_NAMES } from '../../lib/config/environment-config';
import { loadEnvironmentConfig } from '../../lib/config/load';
import { MigrationStage } from '../../stages/migration-stage';
import { newApp, STACK_IDS, stripHashes, synthStage } from '../support/stage-fixture';

const STACKS = STACK_IDS;

describe.each(ENV_NAMES)('MigrationStage (%s)', (env) => {
  // synthStage runs cdk-nag AwsSolutions inside the stage: it throws on any unacknowledged finding.
  const { templates } = synthStage(env);

  it('synthesizes all eleven stacks with zero unacknowledged cdk-nag findings', () => {
    expect(Object.keys(templates).sort()).toEqual([...STACKS].sort());
  });

  it.each(STACKS)('matches the %s snapshot (asset hashes stripped)', (stack) => {
    expect(stripHashes(templates[stack]!.toJSON())).toMatchSnapshot();
  });

  it('puts no secret value in any template', () => {
    for (const [name, t] of Object.entries(templates)) {
      const json = JSON.stringify(t.toJSON());
      // Passwords exist only as generated secrets, never as literal properties.
      expect({ name, literalPassword: /"(Password|MasterUserPassword)":"[^"{]/.test(json) }).toEqual({
        name,
        literalPassword: false,
      });
      expect({ name, unwrapped: /"SecretString":"/.test(json) }).toEqual({ name, unwrapped: false });
    }
  });
});

describe('compliance checks reach the stacks inside the stage', () => {
  it('reports a violation planted in a stack of the stage', () => {
    const app = newApp();
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    const stage = new MigrationStage(app, 'Planted', { config, env: { region: config.region } });
    // A bucket without TLS enforcement, encryption settings or access logs inside the Storage stack.
    new s3.Bucket(stage.storage, 'PlantedBucket');
    expect(() => app.synth()).toThrow(/Planted\/Storage\/PlantedBucket\/Resource[\s\S]*AwsSolutions-S10/);
  });

  it('lets an acknowledged finding pass only on the resource it names', () => {
    const app = newApp();
    const config = loadEnvironmentConfig('dev', () => undefined, {});
    const stage = new MigrationStage(app, 'Acknowledged', { config, env: { region: config.region } });
    const planted = new s3.Bucket(stage.storage, 'PlantedBucket', { enforceSSL: true });
    Validations.of(planted).acknowledge(
      { id: 'AwsSolutions-S1', reason: 'test: access logs deliberately absent' },
      { id: 'AwsSolutions-S10', reason: 'test' },
    );
    expect(() => app.synth()).not.toThrow();
    expect(Stack.of(planted).node.id).toBe('Storage');
  });
});
