import { loadPlanDefaults } from '../../lambda/cutover-checks/config';
import { loadConfig as loadFenceConfig } from '../../lambda/cutover-fence/config';
import { InvalidConfigError } from '../../lambda/shared/config';
import { providerPhase } from '../../lambda/shared/custom-resource';
import { MissingConfigError } from '../../lambda/shared/env';

// The typed environments of the handlers whose own tests do not read them: each value comes from the construct,
// and a missing or unusable one is named in the error.

const FENCE = {
  SOURCE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:source',
  TARGET_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:target',
  APP_ROLE_NAME: 'payment_app',
  DATABASE_NAME: 'payments',
  SCHEMAS: 'payments, ledger,',
  SEQUENCE_MARGIN: '1000',
  NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
};

describe('cutover-fence environment', () => {
  it('reads every variable the construct sets', () => {
    expect(loadFenceConfig(FENCE)).toEqual({
      secretArns: { source: FENCE.SOURCE_SECRET_ARN, target: FENCE.TARGET_SECRET_ARN },
      appRoleName: 'payment_app',
      databaseName: 'payments',
      schemas: ['payments', 'ledger'],
      sequenceMargin: 1000,
    });
  });

  it.each(['SOURCE_SECRET_ARN', 'TARGET_SECRET_ARN', 'APP_ROLE_NAME', 'DATABASE_NAME', 'SCHEMAS', 'SEQUENCE_MARGIN'])(
    'names %s when it is missing and says where it is set',
    (name) => {
      const env: Record<string, string> = { ...FENCE };
      delete env[name];
      expect(() => loadFenceConfig(env)).toThrow(MissingConfigError);
      expect(() => loadFenceConfig(env)).toThrow(new RegExp(`^Environment variable ${name} is not set\\..*construct`));
    },
  );

  it('refuses a sequence margin that is not a whole number', () => {
    expect(() => loadFenceConfig({ ...FENCE, SEQUENCE_MARGIN: '10.5' })).toThrow(InvalidConfigError);
    expect(() => loadFenceConfig({ ...FENCE, SEQUENCE_MARGIN: '10.5' })).toThrow('SEQUENCE_MARGIN');
  });
});

describe('cutover-checks environment', () => {
  const defaults = { thresholds: {}, approvalTimeoutSeconds: 1800, checkIntervalSeconds: 60, budgetSeconds: 72_000 };

  it('reads the plan defaults the construct wrote', () => {
    expect(loadPlanDefaults({ CUTOVER_PLAN_DEFAULTS: JSON.stringify(defaults) })).toEqual(defaults);
  });

  it('names the variable when it is missing or not JSON', () => {
    expect(() => loadPlanDefaults({})).toThrow('Environment variable CUTOVER_PLAN_DEFAULTS is not set');
    expect(() => loadPlanDefaults({ CUTOVER_PLAN_DEFAULTS: '{thresholds' })).toThrow(InvalidConfigError);
    expect(() => loadPlanDefaults({ CUTOVER_PLAN_DEFAULTS: '{thresholds' })).toThrow('CUTOVER_PLAN_DEFAULTS');
  });
});

describe('Provider phase (dms-task-manager, datasync-agent-setup)', () => {
  it('reads onEvent and isComplete and names anything else', () => {
    expect(providerPhase({ CUSTOM_RESOURCE_PHASE: 'onEvent' })).toBe('onEvent');
    expect(providerPhase({ CUSTOM_RESOURCE_PHASE: 'isComplete' })).toBe('isComplete');
    expect(() => providerPhase({})).toThrow('Environment variable CUSTOM_RESOURCE_PHASE is not set');
    expect(() => providerPhase({ CUSTOM_RESOURCE_PHASE: 'later' })).toThrow(
      'CUSTOM_RESOURCE_PHASE is "later"; expected onEvent or isComplete',
    );
  });
});
