import { AppError } from './errors.js';

export const previewStatuses = [
  'requested',
  'building',
  'launching',
  'running',
  'healthy',
  'degraded',
  'unhealthy',
  'recovering',
  'stopping',
  'stopped',
  'failed',
] as const;

export type PreviewStatus = (typeof previewStatuses)[number];

/** Allowed transitions. `failed` is reachable from every non-terminal state. */
export const transitions: Readonly<Record<PreviewStatus, readonly PreviewStatus[]>> = {
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

export const terminalStatuses: readonly PreviewStatus[] = ['stopped', 'failed'];

export function isTerminal(status: PreviewStatus): boolean {
  return terminalStatuses.includes(status);
}

/** Statuses in which the app is up and takes requests. */
export const servingStatuses: readonly PreviewStatus[] = ['running', 'healthy', 'degraded', 'unhealthy'];

export function isServing(status: PreviewStatus): boolean {
  return servingStatuses.includes(status);
}

export function canTransition(from: PreviewStatus, to: PreviewStatus): boolean {
  return transitions[from].includes(to);
}

export function assertTransition(from: PreviewStatus, to: PreviewStatus): void {
  if (!canTransition(from, to)) {
    throw new AppError('invalid_state', `A preview that is ${from} cannot become ${to}.`, { status: from });
  }
}
