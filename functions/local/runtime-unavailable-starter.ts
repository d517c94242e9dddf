import { AppError } from '#core/errors.js';
import type { LaunchStarter } from '#core/ports.js';

/** A client may retry after this long; the service needs Docker started (and a restart) first. */
const retryAfterSeconds = 30;

/** Stands where no runtime could be set up (no Docker, no `PREVIEW_RUNNER`): every launch answers 503. */
export class RuntimeUnavailableStarter implements LaunchStarter {
  constructor(private readonly reason: string) {}

  async ensureAvailable(): Promise<void> {
    throw new AppError('runtime_unavailable', this.reason, undefined, retryAfterSeconds);
  }

  async start(): Promise<void> {
    await this.ensureAvailable();
  }
}
