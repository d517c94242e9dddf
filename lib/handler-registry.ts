import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { webSocketRoutes } from '../functions/handlers/websocket/routes.js';
import type { TableName } from './data-tables.js';

/**
 * What every function of the service is and may do, in one place. REST route functions come from the
 * route table (`functions/handlers/http/routes.ts`) with their access in `routeAccess`; WebSocket route
 * functions from `functions/handlers/websocket/routes.ts` with theirs in `webSocketAccess`; the others
 * are listed in `otherHandlers`. Every entry but the REST routes is deployed only when its file exists,
 * so a handler being written elsewhere joins the stack by appearing.
 */

export type TableAccess = 'read' | 'readwrite';

/**
 * What a function does to preview tasks:
 * - `stop`: find and stop a preview's tasks (DELETE, a restart);
 * - `manage`: also describe tasks and their definitions (follow, sweep);
 * - `run`: also build images and start tasks (launch, recovery).
 */
export type RuntimeAccess = 'stop' | 'manage' | 'run';

export interface FunctionAccess {
  readonly tables?: Partial<Record<TableName, TableAccess>>;
  /** Reads generations from the generations bucket. */
  readonly generations?: boolean;
  /** Gets `PREVIEW_RUNNER=ecs`, the ECS/ECR/CodeBuild settings and the permissions of that level. */
  readonly runtime?: RuntimeAccess;
  /** Opens HTTP connections to preview tasks: runs in the private subnets with the proxy security group. */
  readonly reachesTasks?: boolean;
  /** Posts to, checks and drops WebSocket connections: status, health and log messages. */
  readonly websocket?: boolean;
  /** Reads preview logs: CloudWatch Logs, and ECS to tell which preview a task belongs to. */
  readonly previewLogs?: boolean;
  /** Writes log exports and presigns their download. */
  readonly exports?: boolean;
  /** Invokes start-preview asynchronously. */
  readonly startsPreviews?: boolean;
  /** Invokes the log-replay function asynchronously. */
  readonly startsReplays?: boolean;
}

export interface FunctionSizing {
  readonly timeout?: Duration;
  readonly memorySize?: number;
}

export type RouteSettings = FunctionAccess &
  FunctionSizing & {
    /** A failing route function pages someone. */
    readonly pages?: boolean;
  };

const ownPreview = { previews: 'read' } as const;
/** What a status change writes: the preview, the owner's quota (released when it ends) and the audit trail. */
const changesStatus = { previews: 'readwrite', quotas: 'readwrite', events: 'readwrite' } as const;

/** Access of each REST route handler, by handler name. A route missing here fails the synth. */
export const routeAccess: Readonly<Record<string, RouteSettings>> = {
  'list-previews': { tables: ownPreview },
  'get-openapi': {},
  'launch-preview': {
    tables: changesStatus,
    generations: true,
    // A restart stops the running task first.
    runtime: 'stop',
    startsPreviews: true,
    websocket: true,
    pages: true,
  },
  'get-preview-status': { tables: { ...ownPreview, metrics: 'read' }, pages: true },
  'delete-preview': { tables: changesStatus, runtime: 'stop', websocket: true, pages: true },
  'list-endpoints': {
    tables: { ...ownPreview, metrics: 'readwrite' },
    generations: true,
    reachesTasks: true,
  },
  'send-test-request': {
    tables: { ...ownPreview, metrics: 'readwrite' },
    generations: true,
    reachesTasks: true,
  },
  'proxy-preview': {
    tables: { ...ownPreview, metrics: 'readwrite' },
    generations: true,
    reachesTasks: true,
    // Large bodies are copied a few times on their way through.
    memorySize: 1024,
    pages: true,
  },
  'get-preview-config': { tables: ownPreview, generations: true },
  'query-logs': { tables: ownPreview, previewLogs: true },
  'export-logs': { tables: ownPreview, previewLogs: true, exports: true, memorySize: 1024 },
  'extend-preview': { tables: { previews: 'readwrite', events: 'readwrite' }, websocket: true },
  'rotate-preview-token': { tables: { previews: 'readwrite', events: 'readwrite' }, websocket: true },
  'get-metrics': { tables: { ...ownPreview, metrics: 'read' } },
  // Compares measured performance and asks both apps for their OpenAPI documents.
  'compare-versions': {
    tables: { ...ownPreview, metrics: 'readwrite' },
    generations: true,
    reachesTasks: true,
  },
  'list-events': { tables: { ...ownPreview, events: 'read' } },
};

/** How a handler is invoked. */
export type HandlerTrigger =
  /** A route of the WebSocket API (synchronous). */
  | { readonly kind: 'websocket'; readonly routeKey: string }
  /** The subscription filter of the preview log group. */
  | { readonly kind: 'preview-logs' }
  /** EventBridge: ECS task state changes of the preview cluster. */
  | { readonly kind: 'task-state' }
  /** EventBridge: a fixed-rate schedule. */
  | { readonly kind: 'schedule'; readonly every: Duration }
  /** Invoked asynchronously by other functions, by a name fixed per stage (see `invokedFunctionName`). */
  | { readonly kind: 'invoked' };

export interface HandlerEntry extends FunctionSizing {
  /** Kebab-case name: construct ids, alarm names and fixed function names derive from it. */
  readonly name: string;
  /** Module relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly trigger: HandlerTrigger;
  readonly access: FunctionAccess;
  /**
   * Asynchronous delivery (every trigger but the WebSocket API, which invokes synchronously): attempts
   * after the first, and how long an event may wait, before it goes to the failed-events queue.
   */
  readonly retries?: { readonly attempts: number; readonly maxEventAge: Duration };
  /** A failing invocation pages someone. */
  readonly pages: boolean;
}

/**
 * The physical name of an `invoked` function. Fixed rather than generated, because the function itself
 * must be able to name it: every runtime function (start-preview too) reads `PREVIEW_START_FUNCTION`,
 * every live-stream function (log-replay too) `PREVIEW_LOG_REPLAY_FUNCTION`, and a resource cannot
 * refer to its own generated name.
 */
export function invokedFunctionName(stage: string, name: string): string {
  return `preview-${stage}-${name}`;
}

/** Access of each WebSocket route handler, by handler name (`functions/handlers/websocket/<name>.ts`). */
export const webSocketAccess: Readonly<Record<string, FunctionAccess & { readonly pages?: boolean }>> = {
  // Finds the preview by its token (index byTokenHash), records the connection, starts its replay.
  connect: { tables: { previews: 'read' }, websocket: true, startsReplays: true, pages: true },
  disconnect: { websocket: true },
  subscribe: { websocket: true },
  unsubscribe: { websocket: true },
  ping: { websocket: true },
  default: { websocket: true },
};

/** One registry entry per route of the WebSocket route table. */
const webSocketHandlers: HandlerEntry[] = webSocketRoutes.map((route) => ({
  name: `ws-${route.handler}`,
  entry: `functions/handlers/websocket/${route.handler}.ts`,
  description: `WebSocket ${route.routeKey}`,
  trigger: { kind: 'websocket', routeKey: route.routeKey },
  access: webSocketAccess[route.handler] ?? {},
  timeout: Duration.seconds(10),
  pages: webSocketAccess[route.handler]?.pages ?? false,
}));

/**
 * The longest a launch may take: start-preview's timeout (the most Lambda allows), which the image
 * build's own timeouts fit within. The sweeper fails launches older than this.
 */
export const launchTimeout = Duration.minutes(15);

/** Every handler outside the REST routes. */
export const eventHandlers: readonly HandlerEntry[] = [
  {
    name: 'start-preview',
    entry: 'functions/handlers/tasks/start-preview.ts',
    description: 'Builds the image and starts the task of a launched preview',
    trigger: { kind: 'invoked' },
    access: { tables: changesStatus, generations: true, runtime: 'run', reachesTasks: true, websocket: true },
    // A build on CodeBuild followed to healthy takes minutes.
    timeout: launchTimeout,
    memorySize: 1024,
    // A second attempt would race the first over the same preview; a failure is recorded on the preview.
    retries: { attempts: 0, maxEventAge: Duration.minutes(15) },
    pages: true,
  },
  ...webSocketHandlers,
  {
    name: 'log-replay',
    entry: 'functions/handlers/websocket/replay.ts',
    description: 'Sends a new WebSocket connection the log lines it asked to see again',
    trigger: { kind: 'invoked' },
    access: { tables: { previews: 'read' }, websocket: true, previewLogs: true },
    timeout: Duration.seconds(60),
    // A replay for a connection that has gone is pointless: one quick retry at most.
    retries: { attempts: 1, maxEventAge: Duration.minutes(2) },
    pages: false,
  },
  {
    name: 'log-fan-out',
    entry: 'functions/handlers/logs/fan-out.ts',
    description: 'Posts preview log lines to the subscribed WebSocket connections',
    trigger: { kind: 'preview-logs' },
    access: { websocket: true, previewLogs: true },
    timeout: Duration.seconds(60),
    memorySize: 1024,
    // Lines are live data: one quick retry, then they are only in the log group (queries, replay).
    retries: { attempts: 1, maxEventAge: Duration.minutes(5) },
    pages: true,
  },
  {
    name: 'task-state-change',
    entry: 'functions/handlers/events/task-state-change.ts',
    description: 'Follows ECS task state changes of preview tasks',
    trigger: { kind: 'task-state' },
    // Refreshing the preview may recover it (a new task, maybe a new image).
    access: {
      tables: { ...changesStatus, metrics: 'readwrite' },
      generations: true,
      runtime: 'run',
      reachesTasks: true,
      websocket: true,
    },
    timeout: Duration.minutes(5),
    retries: { attempts: 2, maxEventAge: Duration.hours(1) },
    pages: true,
  },
  {
    name: 'check-health',
    entry: 'functions/handlers/schedules/check-health.ts',
    description: 'Health-checks serving previews and recovers unhealthy ones',
    trigger: { kind: 'schedule', every: Duration.minutes(1) },
    access: {
      tables: { ...changesStatus, metrics: 'readwrite' },
      generations: true,
      runtime: 'run',
      reachesTasks: true,
      websocket: true,
    },
    timeout: Duration.minutes(5),
    // The next run a minute later does the same work with fresher data. Runs go one at a time: a run
    // due while the previous one lasts waits for it (its timeout), and only then, if still waiting,
    // counts as failed (the runs cannot keep up).
    retries: { attempts: 0, maxEventAge: Duration.minutes(6) },
    pages: true,
  },
  {
    name: 'sweep-previews',
    entry: 'functions/handlers/schedules/sweep-previews.ts',
    description: 'Stops expired previews, hung launches and orphaned tasks',
    trigger: { kind: 'schedule', every: Duration.minutes(5) },
    // Refreshing a preview whose task vanished recovers it: a new task, maybe a new image.
    access: { tables: changesStatus, generations: true, runtime: 'run', websocket: true },
    timeout: Duration.minutes(5),
    // One at a time, like the health checks: a due run may wait for the previous one to end.
    retries: { attempts: 0, maxEventAge: Duration.minutes(10) },
    pages: true,
  },
  // Not deployed: functions/handlers/schedules/sample-resources.ts samples Docker and process stats for
  // the local runtime; in AWS, Container Insights records resource use and the ECS runner has no stats.
];

/** Which registry entries have their file under `projectRoot`, and which do not (yet). */
export function presentHandlers(
  projectRoot: string,
  entries: readonly HandlerEntry[] = eventHandlers,
): { present: HandlerEntry[]; missing: HandlerEntry[] } {
  const present = entries.filter((entry) => existsSync(path.join(projectRoot, entry.entry)));
  return { present, missing: entries.filter((entry) => !present.includes(entry)) };
}
