import type { Clock } from './clock.js';
import { AppError } from './errors.js';

/**
 * The stage's maintenance switch. While it is on, no preview is launched or recovered, and every
 * preview is stopped (the sweep does it): what a teardown or a risky deploy needs. In AWS it is an
 * SSM parameter the stack creates; locally the configuration sets it.
 */
export interface MaintenanceSwitch {
  isOn(): Promise<boolean>;
}

/** How long a client is told to wait before launching again. */
export const maintenanceRetryAfterSeconds = 300;

export function maintenanceRefusal(): AppError {
  return new AppError(
    'maintenance',
    'The preview service is in maintenance: previews cannot be launched now. Try again later.',
    undefined,
    maintenanceRetryAfterSeconds,
  );
}

/** The switch's values: `on` or `off` (any case, surrounding spaces ignored); anything else is no setting. */
export function parseMaintenanceSetting(value: string): boolean | undefined {
  const setting = value.trim().toLowerCase();
  if (setting === 'on') return true;
  if (setting === 'off') return false;
  return undefined;
}

export function fixedMaintenanceSwitch(on: boolean): MaintenanceSwitch {
  return { isOn: async () => on };
}

export interface CachedSwitchOptions {
  /** Reads the current setting (`on`/`off`). */
  readonly read: () => Promise<string>;
  /** How long a reading is used before the setting is read again. */
  readonly cacheSeconds: number;
  readonly clock: Clock;
  /** A reading failed or was not a setting: the last good one (off at first) stays in force. */
  readonly onProblem: (problem: string, error?: unknown) => void;
}

/**
 * A switch read at most once per cache period, so every function can ask on every call. When the
 * setting cannot be read, the last good reading stays in force: a flaky read neither starts nor ends
 * maintenance.
 */
export function cachedMaintenanceSwitch(options: CachedSwitchOptions): MaintenanceSwitch {
  let on = false;
  let readAt: number | undefined;
  let reading: Promise<boolean> | undefined;
  const refresh = async (): Promise<boolean> => {
    try {
      const value = await options.read();
      const parsed = parseMaintenanceSetting(value);
      if (parsed === undefined) {
        options.onProblem(`the maintenance setting ${JSON.stringify(value)} is neither "on" nor "off"`);
      } else {
        on = parsed;
      }
    } catch (error) {
      options.onProblem('the maintenance setting could not be read', error);
    }
    readAt = options.clock.now().getTime();
    return on;
  };
  return {
    isOn: () => {
      const fresh =
        readAt !== undefined && options.clock.now().getTime() - readAt < options.cacheSeconds * 1000;
      if (fresh) return Promise.resolve(on);
      reading ??= refresh().finally(() => {
        reading = undefined;
      });
      return reading;
    },
  };
}
