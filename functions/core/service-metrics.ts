import { appLaunchFailureReasons } from './launch-diagnosis.js';

/** The service's own metrics (namespace `PreviewService`), as the dashboard and alarms read them. */
export const serviceMetricNames = {
  launches: 'Launches',
  launchDuration: 'LaunchDurationMs',
  /** Every failed launch, by `reason`. */
  launchFailures: 'LaunchFailures',
  /** Failed launches that are the service's fault (alarmed). */
  serviceLaunchFailures: 'ServiceLaunchFailures',
  /** Failed launches that are the generated app's doing: its build, its code, its limits (not alarmed). */
  appLaunchFailures: 'AppLaunchFailures',
  activePreviews: 'ActivePreviews',
  recoveries: 'Recoveries',
  /** A preview the sweeper could not handle in one sweep (it tries again in the next). */
  sweepFailures: 'SweepFailures',
  /** A proxied or test request in the function: from the handler's start to the answer shaped. */
  proxyLatency: 'ProxyLatencyMs',
  /** The part of `ProxyLatencyMs` that is not the app's: the service's own cost per request. */
  proxyOverhead: 'ProxyOverheadMs',
  /** 5xx answers a previewed app gave through the proxy: the app's, not the service's. */
  appServerErrors: 'AppServerErrors',
  /** 5xx answers the service gave itself (not maintenance, not an app's answer relayed). */
  serverErrors: 'ServerErrors',
  /** Requests the authorizer turned away (401): the callers' doing. */
  authorizerDenials: 'AuthorizerDenials',
  fanOutLatency: 'FanOutLatencyMs',
} as const;

export const serviceMetricsNamespace = 'PreviewService';

/** The service's name in its logs, metrics and traces (Powertools' `service`). */
export const serviceName = 'preview-service';

export type ServiceMetricName = (typeof serviceMetricNames)[keyof typeof serviceMetricNames];

export interface ServiceMetrics {
  /** One occurrence, e.g. a launch; `dimensions` split it (a failure's `reason`). */
  count(name: ServiceMetricName, dimensions?: Readonly<Record<string, string>>): void;
  milliseconds(name: ServiceMetricName, value: number): void;
  /** A level at this moment, e.g. how many previews are active. */
  gauge(name: ServiceMetricName, value: number): void;
}

/** A request relayed to an app: its whole time in the handler, and the part of it the app did not take. */
export function recordProxyTimes(metrics: ServiceMetrics, totalMs: number, appMs: number): void {
  metrics.milliseconds(serviceMetricNames.proxyLatency, totalMs);
  metrics.milliseconds(serviceMetricNames.proxyOverhead, Math.max(0, totalMs - appMs));
}

/**
 * Launch failure reasons that come from the generated app or from what the user asked for. Every
 * other reason — `internal`, `runtime_lost`, `runtime_unavailable`, `timeout`, `start_failed`,
 * `task_vanished`, and any reason not listed here — is the service's, and pages.
 */
export const appFailureReasons: ReadonlySet<string> = new Set([
  ...appLaunchFailureReasons,
  // The generation was deleted or is not valid: what the SaaS or the user sent.
  'not_found',
  'validation_failed',
]);

export type LaunchFailureCause = 'app' | 'service';

export function launchFailureCause(reason: string): LaunchFailureCause {
  return appFailureReasons.has(reason) ? 'app' : 'service';
}

/** A failed launch: by reason, and as the service's or the app's. */
export function countLaunchFailure(metrics: ServiceMetrics | undefined, reason: string): void {
  metrics?.count(serviceMetricNames.launchFailures, { reason });
  metrics?.count(
    launchFailureCause(reason) === 'app'
      ? serviceMetricNames.appLaunchFailures
      : serviceMetricNames.serviceLaunchFailures,
  );
}
