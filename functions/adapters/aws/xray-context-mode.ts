/**
 * Loaded before the X-Ray SDK (see tracer.ts). In its default mode the SDK tracks its context with
 * an async hook on every promise, which slows promise-heavy code many times over. Outside Lambda
 * (the local runtime, tests, benchmarks) or with POWERTOOLS_TRACE_ENABLED=false, Powertools traces
 * nothing, so the SDK is put in manual mode and the hook is never installed. These are the SDK's and
 * Powertools' own variables, which they read themselves.
 */
const tracing =
  process.env.AWS_EXECUTION_ENV !== undefined && process.env.POWERTOOLS_TRACE_ENABLED !== 'false';
if (!tracing) process.env.AWS_XRAY_MANUAL_MODE ??= 'true';
