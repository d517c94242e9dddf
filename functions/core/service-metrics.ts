/** The service's own metrics (namespace `PreviewService`), as the dashboard and alarms read them. */
export const serviceMetricNames = {
  launches: 'Launches',
  launchDuration: 'LaunchDurationMs',
  launchFailures: 'LaunchFailures',
  activePreviews: 'ActivePreviews',
  recoveries: 'Recoveries',
  /** A preview the sweeper could not handle in one sweep (it tries again in the next). */
  sweepFailures: 'SweepFailures',
  proxyLatency: 'ProxyLatencyMs',
  fanOutLatency: 'FanOutLatencyMs',
} as const;

export const serviceMetricsNamespace = 'PreviewService';

export type ServiceMetricName = (typeof serviceMetricNames)[keyof typeof serviceMetricNames];

export interface ServiceMetrics {
  /** One occurrence, e.g. a launch; `dimensions` split it (a failure's `reason`). */
  count(name: ServiceMetricName, dimensions?: Readonly<Record<string, string>>): void;
  milliseconds(name: ServiceMetricName, value: number): void;
  /** A level at this moment, e.g. how many previews are active. */
  gauge(name: ServiceMetricName, value: number): void;
}
