import { serviceMetricNames, serviceMetricsNamespace } from '#core/service-metrics.js';

/**
 * The contract between the functions that emit the service's metrics (Embedded Metric Format, through
 * Powertools) and the dashboard and alarms that read them. The names come from the functions' own list;
 * this adds the dimensions and units the readers rely on. No CDK imports, so function code may import it.
 *
 * Every metric carries `service` (Powertools adds it: its service name) and `stage` (the value of
 * `PREVIEW_STAGE`), so stages sharing an account stay apart. `LaunchFailures` is emitted with two
 * dimension sets: with `reason` for the breakdown, and without it for the total the alarm watches.
 */
export const serviceMetrics = {
  namespace: serviceMetricsNamespace,
  serviceDimension: { name: 'service', value: 'preview-service' },
  stageDimension: 'stage',
  reasonDimension: 'reason',
  codeDimension: 'code',
  metrics: {
    /** One per launch accepted (202). */
    launches: { name: serviceMetricNames.launches, unit: 'Count', dimensionSets: [['service', 'stage']] },
    /** From launch accepted to first healthy. */
    launchDuration: {
      name: serviceMetricNames.launchDuration,
      unit: 'Milliseconds',
      dimensionSets: [['service', 'stage']],
    },
    /** One per failed launch; `reason` is the failure's reason (build_error, timeout, ...). */
    launchFailures: {
      name: serviceMetricNames.launchFailures,
      unit: 'Count',
      dimensionSets: [
        ['service', 'stage', 'reason'],
        ['service', 'stage'],
      ],
    },
    /** Failed launches that are the service's fault (`internal`, `runtime_lost`, `timeout`, ...): alarmed. */
    serviceLaunchFailures: {
      name: serviceMetricNames.serviceLaunchFailures,
      unit: 'Count',
      dimensionSets: [['service', 'stage']],
    },
    /** Failed launches that are the generated app's doing (build error, exit, health, OOM, ...): shown only. */
    appLaunchFailures: {
      name: serviceMetricNames.appLaunchFailures,
      unit: 'Count',
      dimensionSets: [['service', 'stage']],
    },
    /** Previews not stopped or failed, counted by the sweeper on each run. */
    activePreviews: {
      name: serviceMetricNames.activePreviews,
      unit: 'Count',
      dimensionSets: [['service', 'stage']],
    },
    /** One per automatic restart after failed health checks. */
    recoveries: { name: serviceMetricNames.recoveries, unit: 'Count', dimensionSets: [['service', 'stage']] },
    /** One per preview a sweep could not handle (logged with its error; the next sweep tries again). */
    sweepFailures: {
      name: serviceMetricNames.sweepFailures,
      unit: 'Count',
      dimensionSets: [['service', 'stage']],
    },
    /** Proxy and test requests: time in the handler until the app's answer was shaped for relay. */
    proxyLatency: {
      name: serviceMetricNames.proxyLatency,
      unit: 'Milliseconds',
      dimensionSets: [['service', 'stage']],
    },
    /** The same less the app's own time: what the service adds to each proxied request. */
    proxyOverhead: {
      name: serviceMetricNames.proxyOverhead,
      unit: 'Milliseconds',
      dimensionSets: [['service', 'stage']],
    },
    /** 5xx answers of the previewed apps through the proxy: counted apart, never alarmed. */
    appServerErrors: {
      name: serviceMetricNames.appServerErrors,
      unit: 'Count',
      dimensionSets: [['service', 'stage']],
    },
    /** 5xx the REST functions answered themselves, by error `code` and in total (alarmed); not `maintenance`. */
    serverErrors: {
      name: serviceMetricNames.serverErrors,
      unit: 'Count',
      dimensionSets: [
        ['service', 'stage', 'code'],
        ['service', 'stage'],
      ],
    },
    /** Requests the authorizer answered 401: subtracted from its Lambda errors before they alarm. */
    authorizerDenials: {
      name: serviceMetricNames.authorizerDenials,
      unit: 'Count',
      dimensionSets: [['service', 'stage']],
    },
    /** Per subscription delivery with connections: from the event to the last post (the fan-out alone). */
    fanOutLatency: {
      name: serviceMetricNames.fanOutLatency,
      unit: 'Milliseconds',
      dimensionSets: [['service', 'stage']],
    },
  },
} as const;

export type ServiceMetricKey = keyof typeof serviceMetrics.metrics;
