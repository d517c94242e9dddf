import type { MaintenanceSwitch } from '../maintenance.js';
import type { PreviewStore } from '../ports.js';
import type { PreviewStateMachine } from './preview-state-machine.js';

export interface MaintenanceStopDependencies {
  readonly previews: PreviewStore;
  readonly stateMachine: PreviewStateMachine;
  readonly maintenance: MaintenanceSwitch;
  /** One preview could not be stopped; the next sweep tries again. */
  readonly onError: (previewId: string, error: unknown) => void;
}

export interface MaintenanceStopResult {
  readonly stopped: number;
  readonly failed: number;
}

/**
 * While the stage is in maintenance, every live preview is stopped (its task stopped, its quota
 * released), each on its own so one failure leaves the others stopped. Run with every sweep.
 */
export class MaintenanceStop {
  constructor(private readonly deps: MaintenanceStopDependencies) {}

  async run(): Promise<MaintenanceStopResult> {
    if (!(await this.deps.maintenance.isOn())) return { stopped: 0, failed: 0 };
    let stopped = 0;
    let failed = 0;
    for (const preview of await this.deps.previews.listLive()) {
      try {
        await this.deps.stateMachine.halt(preview, 'maintenance', 'the service is in maintenance');
        stopped += 1;
      } catch (error) {
        failed += 1;
        this.deps.onError(preview.previewId, error);
      }
    }
    return { stopped, failed };
  }
}
