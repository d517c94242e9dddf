import { describe, expect, it } from 'vitest';
import { AppError } from '#core/errors.js';
import {
  assertTransition,
  canTransition,
  isTerminal,
  previewStatuses,
  type PreviewStatus,
} from '#core/lifecycle.js';

/** The lifecycle of DESIGN.md, written out independently of the implementation's table. */
const allowed: Record<PreviewStatus, PreviewStatus[]> = {
  requested: ['building', 'launching', 'stopping', 'failed'],
  building: ['launching', 'stopping', 'failed'],
  launching: ['running', 'stopping', 'failed'],
  running: ['healthy', 'degraded', 'unhealthy', 'recovering', 'stopping', 'failed'],
  healthy: ['degraded', 'unhealthy', 'recovering', 'stopping', 'failed'],
  degraded: ['healthy', 'unhealthy', 'recovering', 'stopping', 'failed'],
  unhealthy: ['healthy', 'degraded', 'recovering', 'stopping', 'failed'],
  recovering: ['launching', 'stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};

const pairs = previewStatuses.flatMap((from) => previewStatuses.map((to) => [from, to] as const));

describe('lifecycle transitions', () => {
  it.each(pairs.filter(([from, to]) => allowed[from].includes(to)))('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each(pairs.filter(([from, to]) => !allowed[from].includes(to)))(
    'forbids %s → %s as invalid_state, not a retryable clash',
    (from, to) => {
      expect(canTransition(from, to)).toBe(false);
      const error = (() => {
        try {
          assertTransition(from, to);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'invalid_state' });
    },
  );

  it('reaches failed from every non-terminal state and leaves no terminal state', () => {
    for (const status of previewStatuses) {
      expect(canTransition(status, 'failed')).toBe(!isTerminal(status));
      if (isTerminal(status)) expect(previewStatuses.filter((to) => canTransition(status, to))).toEqual([]);
    }
  });
});
