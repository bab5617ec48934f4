import { defaultRunId, parseSmokeConfig, SmokeConfigError } from '../../scripts/smoke-test/config';

const SM = 'arn:aws:states:us-west-2:111111111111:stateMachine:Orchestration';

describe('parseSmokeConfig', () => {
  it('reads the stack outputs and applies the defaults', () => {
    expect(parseSmokeConfig({ DATA_BUCKET_NAME: 'data-dev', STATE_MACHINE_ARN: SM }, () => 'r1')).toEqual({
      bucket: 'data-dev',
      stateMachineArn: SM,
      region: 'us-west-2',
      timeoutSeconds: 900,
      pollSeconds: 15,
      runId: 'r1',
    });
  });

  it('takes the optional settings', () => {
    const c = parseSmokeConfig({
      DATA_BUCKET_NAME: 'data-dev',
      STATE_MACHINE_ARN: SM,
      AWS_REGION: 'us-west-2',
      SMOKE_TIMEOUT_SECONDS: '120',
      SMOKE_POLL_SECONDS: '5',
      SMOKE_ROLE_ARN: 'arn:aws:iam::111111111111:role/smoke-test',
      SMOKE_RUN_ID: 'build-42',
    });
    expect(c).toMatchObject({
      timeoutSeconds: 120,
      pollSeconds: 5,
      roleArn: 'arn:aws:iam::111111111111:role/smoke-test',
      runId: 'build-42',
    });
  });

  it('lists every problem by variable name', () => {
    let error: SmokeConfigError | undefined;
    try {
      parseSmokeConfig({
        STATE_MACHINE_ARN: SM,
        AWS_REGION: 'eu-west-1',
        SMOKE_POLL_SECONDS: '0',
        SMOKE_ROLE_ARN: 'arn:aws:iam::222222222222:role/pipeline',
        SMOKE_RUN_ID: '../escape',
      });
    } catch (e) {
      error = e as SmokeConfigError;
    }
    expect(error?.problems).toEqual([
      'DATA_BUCKET_NAME is not set',
      'STATE_MACHINE_ARN is in us-west-2 but AWS_REGION is eu-west-1',
      'SMOKE_ROLE_ARN is in account 222222222222 but the state machine is in 111111111111; use a role in the target account',
      "SMOKE_POLL_SECONDS is '0', expected a whole number of seconds from 1 to 600",
      "SMOKE_RUN_ID '../escape' may hold only letters, digits, '-' and '_' (at most 64)",
    ]);
  });

  it('rejects a state machine ARN that is not one', () => {
    expect(() => parseSmokeConfig({ DATA_BUCKET_NAME: 'data-dev', STATE_MACHINE_ARN: 'Orchestration' })).toThrow(
      /STATE_MACHINE_ARN 'Orchestration' is not a state machine ARN/,
    );
  });
});

describe('defaultRunId', () => {
  it('is sortable by time and safe in an S3 key', () => {
    expect(defaultRunId(new Date('2026-11-22T15:30:12.345Z'), () => 0.5)).toBe('20261122T153012Z-7fffff');
  });
});
