import { describe, expect, it } from 'vitest';
import type { Clock } from '#core/clock.js';
import { LaunchTrace } from '#core/launch-trace.js';

/** A clock that moves only when told. */
function steppingClock(start: string): Clock & { advance(ms: number): void } {
  let now = Date.parse(start);
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

describe('LaunchTrace', () => {
  it('records each span with its start and end, in the order the spans started', async () => {
    const clock = steppingClock('2026-12-03T08:00:00.000Z');
    const trace = new LaunchTrace(clock);
    await trace.span('record.read', async () => clock.advance(5));
    trace.add('launch.handoff', new Date('2026-12-03T07:59:59.990Z'), new Date('2026-12-03T08:00:00.000Z'));
    await trace.span('task.wait.app', async () => clock.advance(40));

    expect(trace.steps()).toEqual([
      {
        kind: 'service',
        step: 'launch.handoff',
        startedAt: '2026-12-03T07:59:59.990Z',
        endedAt: '2026-12-03T08:00:00.000Z',
      },
      {
        kind: 'service',
        step: 'record.read',
        startedAt: '2026-12-03T08:00:00.000Z',
        endedAt: '2026-12-03T08:00:00.005Z',
      },
      {
        kind: 'service',
        step: 'task.wait.app',
        startedAt: '2026-12-03T08:00:00.005Z',
        endedAt: '2026-12-03T08:00:00.045Z',
      },
    ]);
  });

  it('records a span whose work failed, and passes the failure on', async () => {
    const clock = steppingClock('2026-12-03T08:00:00.000Z');
    const trace = new LaunchTrace(clock);
    const failing = trace.span('task.start.app', async () => {
      clock.advance(7);
      throw new Error('no such image');
    });
    await expect(failing).rejects.toThrow('no such image');
    expect(trace.steps().map((s) => [s.step, s.endedAt])).toEqual([
      ['task.start.app', '2026-12-03T08:00:00.007Z'],
    ]);
  });

  it('keeps at most 200 steps', async () => {
    const trace = new LaunchTrace(steppingClock('2026-12-03T08:00:00.000Z'));
    for (let i = 0; i < 250; i += 1) await trace.span('record.read', async () => undefined);
    expect(trace.steps()).toHaveLength(200);
  });
});
