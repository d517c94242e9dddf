import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ssmMaintenanceSwitch } from '#adapters/aws/ssm-maintenance-switch.js';

const ssm = mockClient(SSMClient);
afterEach(() => ssm.reset());

function switchAt(clock: { time: number }, problems: string[] = []) {
  return ssmMaintenanceSwitch(new SSMClient({ region: 'eu-west-1' }), {
    parameterName: '/preview/dev/maintenance',
    cacheSeconds: 30,
    clock: { now: () => new Date(clock.time) },
    onProblem: (problem) => problems.push(problem),
  });
}

const answer = (value: string) => ({
  Parameter: { Name: '/preview/dev/maintenance', Type: 'String' as const, Value: value },
});

describe('ssmMaintenanceSwitch', () => {
  it('reads the parameter by its name, then at most once per 30 s', async () => {
    ssm.on(GetParameterCommand).resolvesOnce(answer('on')).resolvesOnce(answer('off'));
    const clock = { time: Date.parse('2026-12-02T10:00:00Z') };
    const maintenance = switchAt(clock);
    expect(await maintenance.isOn()).toBe(true);
    clock.time += 29_000;
    expect(await maintenance.isOn()).toBe(true);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: '/preview/dev/maintenance',
    });
    clock.time += 1_000;
    expect(await maintenance.isOn()).toBe(false);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('callers asking at once share one read', async () => {
    ssm.on(GetParameterCommand).resolves(answer('ON '));
    const maintenance = switchAt({ time: 0 });
    expect(await Promise.all([maintenance.isOn(), maintenance.isOn(), maintenance.isOn()])).toEqual([
      true,
      true,
      true,
    ]);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('keeps the last good setting when the parameter cannot be read or holds no setting', async () => {
    const problems: string[] = [];
    ssm
      .on(GetParameterCommand)
      .resolvesOnce(answer('on'))
      .rejectsOnce(new ParameterNotFound({ message: 'gone', $metadata: {} }))
      .resolvesOnce(answer('maybe'))
      .resolvesOnce(answer('off'));
    const clock = { time: 0 };
    const maintenance = switchAt(clock, problems);
    expect(await maintenance.isOn()).toBe(true);
    clock.time += 30_000;
    expect(await maintenance.isOn()).toBe(true);
    clock.time += 30_000;
    expect(await maintenance.isOn()).toBe(true);
    expect(problems).toEqual([
      'the maintenance setting could not be read',
      'the maintenance setting "maybe" is neither "on" nor "off"',
    ]);
    clock.time += 30_000;
    expect(await maintenance.isOn()).toBe(false);
  });

  it('is off when the first read fails', async () => {
    ssm.on(GetParameterCommand).rejects(new Error('throttled'));
    expect(await switchAt({ time: 0 }).isOn()).toBe(false);
  });
});
