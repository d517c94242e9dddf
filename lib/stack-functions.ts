import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { routes, type RouteDefinition } from '#handlers/http/routes.js';
import {
  eventFunctions,
  restFunctions,
  webSocketFunctions,
  type EventFunction,
  type FunctionAccess,
} from '#handlers/registry.js';
import { webSocketRoutes } from '#handlers/websocket/routes.js';

/** How the stack invokes a function. */
export type StackTrigger =
  /** Every route of the REST API the function answers (the proxy has two: its root and the paths below). */
  | { readonly kind: 'rest'; readonly routes: readonly RouteDefinition[] }
  /** A route of the WebSocket API (synchronous). */
  | { readonly kind: 'websocket'; readonly routeKey: string }
  | { readonly kind: 'preview-logs' }
  | { readonly kind: 'task-state' }
  | { readonly kind: 'schedule'; readonly every: Duration }
  /** By a name fixed per stage (see `invokedFunctionName`). */
  | { readonly kind: 'invoked' };

/** A function of the registry (functions/handlers/registry.ts) as the stack deploys it. */
export interface StackFunction {
  /** Kebab-case name: construct ids, alarm names and fixed function names derive from it. */
  readonly name: string;
  /** Absolute path of the handler module, which the bundler starts from. */
  readonly entry: string;
  readonly description: string;
  readonly trigger: StackTrigger;
  readonly access: FunctionAccess;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  /** Asynchronous delivery (event functions): attempts after the first, and the longest wait, before the failed-events queue. */
  readonly retries?: { readonly attempts: number; readonly maxEventAge: Duration };
  /** A failing invocation pages someone. */
  readonly pages: boolean;
}

/**
 * The physical name of an `invoked` function. Fixed rather than generated, because the function itself
 * must be able to name it: every runtime function (start-preview too) reads `PREVIEW_START_FUNCTION`,
 * every live-stream function (log-replay too) `PREVIEW_LOG_REPLAY_FUNCTION`, the fan-out, which
 * invokes itself with slices of a large audience, `PREVIEW_LOG_FAN_OUT_FUNCTION`; and a resource
 * cannot refer to its own generated name.
 */
export function invokedFunctionName(stage: string, name: string): string {
  return `preview-${stage}-${name}`;
}

const seconds = (value: number | undefined) => (value === undefined ? undefined : Duration.seconds(value));

function eventFunction(name: string, fn: EventFunction): StackFunction {
  const { trigger } = fn;
  return {
    name,
    entry: fileURLToPath(fn.module.entry),
    description: fn.description,
    trigger:
      trigger.kind === 'schedule'
        ? { kind: 'schedule', every: Duration.minutes(trigger.everyMinutes) }
        : trigger,
    access: fn.access,
    timeout: seconds(fn.timeoutSeconds),
    memorySize: fn.memorySize,
    retries: { attempts: fn.retries.attempts, maxEventAge: Duration.minutes(fn.retries.maxEventAgeMinutes) },
    pages: fn.pages ?? false,
  };
}

/**
 * Every function of the registry, in the order the stack creates them: start-preview, the WebSocket
 * routes, the other event functions, then the REST routes (an order that keeps the template stable).
 */
export function stackFunctions(): StackFunction[] {
  const events = Object.entries(eventFunctions).map(([name, fn]) => eventFunction(name, fn));
  const webSocket = webSocketRoutes.map((route): StackFunction => {
    const fn = webSocketFunctions[route.handler];
    return {
      name: `ws-${route.handler}`,
      entry: fileURLToPath(fn.module.entry),
      description: `WebSocket ${route.routeKey}`,
      trigger: { kind: 'websocket', routeKey: route.routeKey },
      access: fn.access,
      timeout: Duration.seconds(10),
      memorySize: fn.memorySize,
      pages: fn.pages ?? false,
    };
  });
  const restHandlers = [...new Set(routes.map((route) => route.handler))];
  const rest = restHandlers.map((handler): StackFunction => {
    const fn = restFunctions[handler];
    const handled = routes.filter((route) => route.handler === handler);
    return {
      name: handler,
      entry: fileURLToPath(fn.module.entry),
      description: handled.map((route) => `${route.method} ${route.path}`).join(', '),
      trigger: { kind: 'rest', routes: handled },
      access: fn.access,
      timeout: seconds(fn.timeoutSeconds),
      memorySize: fn.memorySize,
      pages: fn.pages ?? false,
    };
  });
  const startsLaunches = (fn: StackFunction) => fn.name === 'start-preview';
  return [
    ...events.filter(startsLaunches),
    ...webSocket,
    ...events.filter((fn) => !startsLaunches(fn)),
    ...rest,
  ];
}
