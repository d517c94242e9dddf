import type { AppHttpClient } from '../app-request.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import type { LiveNotifier } from '../log-ports.js';
import type { MetricsStore, PreviewStore } from '../ports.js';
import type { HealthCheckResult, PreviewHealth, PreviewRecord } from '../preview.js';
import { appliedLimits } from '../resource-fit.js';
import type { TaskRunner } from '../task-runner.js';
import type { PreviewLauncher } from './preview-launcher.js';
import type { PreviewStateMachine } from './preview-state-machine.js';

export interface HealthMonitorDependencies {
  readonly previews: PreviewStore;
  readonly stateMachine: PreviewStateMachine;
  readonly launcher: PreviewLauncher;
  readonly runner: TaskRunner;
  readonly client: AppHttpClient;
  readonly metrics: MetricsStore;
  readonly clock: Clock;
  /** Unhealthy checks in a row before the preview is restarted. */
  readonly failureThreshold: number;
  /** Tells the preview's open connections when its health changes. */
  readonly notifier?: Pick<LiveNotifier, 'healthChecked'>;
}

/** Running previews are the launcher's until their first healthy check; then the monitor's. */
const monitoredStatuses = new Set(['healthy', 'degraded', 'unhealthy']);
const monitor = { type: 'system' as const, id: 'health-monitor' };
const httpLimits = { timeoutMs: 5_000, maxResponseBytes: 64 * 1024 };
/** Memory use above this share of the limit makes a preview degraded: it is about to be killed. */
const memoryWarningPercent = 90;

/**
 * Health = the app's health endpoint answers 2xx, its database is reachable, and its memory is
 * below the limit: healthy when all pass, degraded when the app answers but something else does
 * not, unhealthy when the app does not answer. Repeated unhealthy checks restart the preview.
 */
export class HealthMonitor {
  constructor(private readonly deps: HealthMonitorDependencies) {}

  /** Checks every serving preview whose interval has passed; returns how many were checked. */
  async checkDue(): Promise<number> {
    const now = this.deps.clock.now().getTime();
    const due = (await this.deps.previews.listLive()).filter(
      (p) =>
        monitoredStatuses.has(p.status) &&
        p.endpoint !== undefined &&
        (p.health === undefined ||
          Date.parse(p.health.checkedAt) + p.healthCheck.intervalSeconds * 1000 <= now),
    );
    await Promise.all(
      due.map((preview) =>
        this.check(preview).catch((error: unknown) => {
          // Moved by someone else meanwhile (a stop, a recovery): the next round sees the new state.
          if (!(error instanceof AppError && error.code === 'conflict')) throw error;
        }),
      ),
    );
    return due.length;
  }

  async check(record: PreviewRecord): Promise<PreviewHealth> {
    const checks = await Promise.all([
      this.httpCheck(record),
      this.databaseCheck(record),
      this.memoryCheck(record),
    ]);
    const present = checks.filter((c): c is HealthCheckResult => c !== undefined);
    const status =
      present.find((c) => c.name === 'http')?.status === 'failing'
        ? 'unhealthy'
        : present.some((c) => c.status !== 'passing')
          ? 'degraded'
          : 'healthy';
    const health: PreviewHealth = {
      status,
      checks: present,
      checkedAt: this.deps.clock.now().toISOString(),
      consecutiveFailures: status === 'unhealthy' ? (record.health?.consecutiveFailures ?? 0) + 1 : 0,
    };
    const problems = present
      .filter((c) => c.status !== 'passing')
      .map((c) => `${c.name}: ${c.message ?? c.status}`);
    const next =
      record.status === status
        ? // Only the check that read the previous result records the next: an overlapping run loses.
          await this.deps.stateMachine.update(
            record,
            { health },
            { 'health.checkedAt': record.health?.checkedAt ?? null },
          )
        : await this.deps.stateMachine.transition(
            record,
            status,
            monitor,
            { health },
            { type: status, ...(problems.length > 0 ? { reason: problems.join('; ') } : {}) },
          );
    await this.deps.notifier?.healthChecked(record.previewId, health, record.health);
    if (health.consecutiveFailures >= this.deps.failureThreshold) {
      await this.deps.launcher.recover(
        next,
        `the health check failed ${health.consecutiveFailures} times in a row`,
      );
    }
    return health;
  }

  private async httpCheck(record: PreviewRecord): Promise<HealthCheckResult> {
    if (!record.endpoint) return { name: 'http', status: 'failing', message: 'no endpoint yet' };
    try {
      const response = await this.deps.client.send(
        record.endpoint,
        { method: 'GET', target: record.healthCheck.endpoint, headers: { accept: 'application/json' } },
        httpLimits,
      );
      return response.statusCode >= 200 && response.statusCode < 300
        ? {
            name: 'http',
            status: 'passing',
            message: `${response.statusCode} in ${Math.round(response.durationMs)}ms`,
          }
        : {
            name: 'http',
            status: 'failing',
            message: `${record.healthCheck.endpoint} answered ${response.statusCode}`,
          };
    } catch (error) {
      return {
        name: 'http',
        status: 'failing',
        message: error instanceof Error ? error.message : 'no answer',
      };
    }
  }

  /** The database sidecar's own health check (pg_isready, mongosh ping), as the runtime reports it. */
  private async databaseCheck(record: PreviewRecord): Promise<HealthCheckResult | undefined> {
    if (record.dbType !== 'postgresql' && record.dbType !== 'mongodb') return undefined;
    const description = await this.deps.runner.describe(record.previewId);
    const database = description?.containers.find((c) => c.name === 'database');
    if (database?.state === 'healthy') return { name: 'database', status: 'passing', message: 'Connected' };
    if (database?.state === 'running')
      return { name: 'database', status: 'warning', message: 'not checked yet' };
    return {
      name: 'database',
      status: 'failing',
      message: database ? `database is ${database.state}` : 'no database container',
    };
  }

  private async memoryCheck(record: PreviewRecord): Promise<HealthCheckResult | undefined> {
    const sample = await this.deps.metrics.latestResources(record.previewId);
    if (!sample) return undefined;
    const limit = appliedLimits(record).memoryMb * 1024 * 1024;
    const percent = Math.round((sample.memoryUsedBytes / limit) * 100);
    return {
      name: 'memory',
      status: percent >= memoryWarningPercent ? 'warning' : 'passing',
      usage: `${percent}%`,
      usagePercent: percent,
    };
  }
}
