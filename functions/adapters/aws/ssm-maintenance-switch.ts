import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '#core/clock.js';
import { cachedMaintenanceSwitch, type MaintenanceSwitch } from '#core/maintenance.js';

export interface SsmMaintenanceSwitchOptions {
  /** The parameter the stack creates (`/preview/<stage>/maintenance`). */
  readonly parameterName: string;
  readonly cacheSeconds: number;
  readonly clock: Clock;
  readonly onProblem: (problem: string, error?: unknown) => void;
}

/** The maintenance switch as an SSM String parameter (`on`/`off`), read at most once per cache period. */
export function ssmMaintenanceSwitch(
  client: SSMClient,
  options: SsmMaintenanceSwitchOptions,
): MaintenanceSwitch {
  return cachedMaintenanceSwitch({
    read: async () => {
      const { Parameter } = await client.send(new GetParameterCommand({ Name: options.parameterName }));
      return Parameter?.Value ?? '';
    },
    cacheSeconds: options.cacheSeconds,
    clock: options.clock,
    onProblem: options.onProblem,
  });
}
