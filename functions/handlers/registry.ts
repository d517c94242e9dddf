import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
  CloudWatchLogsEvent,
  Context,
  ScheduledEvent,
} from 'aws-lambda';
import type { TableDefinition } from '#adapters/aws/table-definitions.js';
import type { TaskStateChangeEvent } from '#core/task-state-change.js';
import type { RestRouteName } from './http/routes.js';
import type { WebSocketRouteName } from './websocket/routes.js';
import type { WebSocketEvent, WebSocketResult } from './websocket/websocket-route.js';

/**
 * Every function of the service, declared once: its handler module, what it may access and how it
 * runs. The CDK stack deploys exactly these (functions, IAM grants, API integrations, event rules),
 * and the local runtime runs the same modules behind its gateway, WebSocket API and schedules.
 *
 * Follow a name: `restFunctions['launch-preview']` has the route (`http/routes.ts`, same key), the
 * handler module (its request schema and the core service it calls) and the access the stack grants
 * (`lib/function-factory.ts` turns each field into IAM statements and environment variables).
 *
 * Each module is imported by a literal path, so a missing or renamed handler file, or one whose
 * `handler` does not fit its trigger, fails the type check. `entry` is the same file for the bundler;
 * test/unit/function-registry.test.ts checks that the two agree and that no handler file is left out.
 *
 * Handlers never import this module: its loaders would pull every other handler into their bundle.
 * What handlers need of the routes (the OpenAPI document, the WebSocket actions) is in the route
 * tables, which carry no modules.
 */

/** A function's code: the file the stack bundles, and the loader the local runtime calls (on first use, as a cold start). */
export interface HandlerModule<
  Module extends { readonly handler: AnyHandler } = { readonly handler: AnyHandler },
> {
  readonly entry: URL;
  readonly load: () => Promise<Module>;
}

type AnyHandler = (...args: never[]) => Promise<unknown>;

/**
 * `file` is relative to this folder; `load` must import the same file (as `.js`). The import runs
 * once: later calls answer at once, where a new `import()` would go through the module loader again.
 */
function handlerModule<Module extends { readonly handler: AnyHandler }>(
  file: string,
  load: () => Promise<Module>,
): HandlerModule<Module> {
  let loaded: Promise<Module> | undefined;
  return { entry: new URL(file, import.meta.url), load: () => (loaded ??= load()) };
}

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type WebSocketHandler = (event: WebSocketEvent) => Promise<WebSocketResult>;
export type TokenAuthorizer = (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

export type TableName = TableDefinition['name'];
export type TableAccess = 'read' | 'readwrite';

/**
 * What a function does to preview tasks:
 * - `stop`: find and stop a preview's tasks (DELETE, a restart);
 * - `manage`: also describe tasks and their definitions (follow, sweep);
 * - `run`: also build images and start tasks (launch, recovery).
 */
export type RuntimeAccess = 'stop' | 'manage' | 'run';

/** What a function may reach; the stack grants this and nothing more. */
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
  /** Makes and evicts database snapshots after a launch: starts the snapshot build, deletes old snapshots. */
  readonly makesDatabaseSnapshots?: boolean;
  /** Lists database snapshots (ECR) without running launches. */
  readonly listsDatabaseSnapshots?: boolean;
  /** Invokes start-preview asynchronously. */
  readonly startsPreviews?: boolean;
  /** Invokes the log-replay function asynchronously. */
  readonly startsReplays?: boolean;
  /**
   * Hands slices of a large connection set to asynchronous invocations of itself: the function gets
   * a fixed name, which it reads from `PREVIEW_LOG_FAN_OUT_FUNCTION`, and may invoke that name.
   */
  readonly slicesFanOut?: boolean;
}

interface FunctionDeclaration<Module extends { readonly handler: AnyHandler }> {
  readonly module: HandlerModule<Module>;
  readonly access: FunctionAccess;
  /** The stack's default otherwise: 29 s, API Gateway's limit. */
  readonly timeoutSeconds?: number;
  /** 512 MB otherwise. */
  readonly memorySize?: number;
  /** A failing invocation pages someone. */
  readonly pages?: boolean;
}

export type RestFunction = FunctionDeclaration<{ readonly handler: ProxyHandler }>;
export type WebSocketFunction = FunctionDeclaration<{ readonly handler: WebSocketHandler }>;

const ownPreview = { previews: 'read' } as const;
/** What a status change writes: the preview, the owner's quota (released when it ends) and the audit trail. */
const changesStatus = { previews: 'readwrite', quotas: 'readwrite', events: 'readwrite' } as const;
/** What checking a preview and recovering it takes: a new task (maybe a new image), its metrics, its live stream. */
const recoversPreviews: FunctionAccess = {
  tables: { ...changesStatus, metrics: 'readwrite' },
  generations: true,
  runtime: 'run',
  reachesTasks: true,
  websocket: true,
};

/** The REST routes' functions, by route name (`http/routes.ts`): one per route, and none without one. */
export const restFunctions: { readonly [Name in RestRouteName]: RestFunction } = {
  'list-previews': {
    module: handlerModule('http/list-previews.ts', () => import('./http/list-previews.js')),
    access: { tables: ownPreview },
  },
  'get-openapi': {
    module: handlerModule('http/get-openapi.ts', () => import('./http/get-openapi.js')),
    access: {},
  },
  'get-asyncapi': {
    module: handlerModule('http/get-asyncapi.ts', () => import('./http/get-asyncapi.js')),
    access: {},
  },
  'get-websocket-docs': {
    module: handlerModule('http/get-websocket-docs.ts', () => import('./http/get-websocket-docs.js')),
    access: {},
  },
  'launch-preview': {
    module: handlerModule('http/launch-preview.ts', () => import('./http/launch-preview.js')),
    access: {
      tables: changesStatus,
      generations: true,
      // A restart stops the running task first.
      runtime: 'stop',
      startsPreviews: true,
      websocket: true,
    },
    pages: true,
  },
  'get-preview-status': {
    module: handlerModule('http/get-preview-status.ts', () => import('./http/get-preview-status.js')),
    access: { tables: { ...ownPreview, metrics: 'read' } },
    pages: true,
  },
  'delete-preview': {
    module: handlerModule('http/delete-preview.ts', () => import('./http/delete-preview.js')),
    access: { tables: changesStatus, runtime: 'stop', websocket: true },
    pages: true,
  },
  'list-endpoints': {
    module: handlerModule('http/list-endpoints.ts', () => import('./http/list-endpoints.js')),
    access: { tables: { ...ownPreview, metrics: 'readwrite' }, generations: true, reachesTasks: true },
  },
  'send-test-request': {
    module: handlerModule('http/send-test-request.ts', () => import('./http/send-test-request.js')),
    access: { tables: { ...ownPreview, metrics: 'readwrite' }, generations: true, reachesTasks: true },
  },
  'proxy-preview': {
    module: handlerModule('http/proxy-preview.ts', () => import('./http/proxy-preview.js')),
    access: { tables: { ...ownPreview, metrics: 'readwrite' }, generations: true, reachesTasks: true },
    // Large bodies are copied a few times on their way through.
    memorySize: 1024,
    pages: true,
  },
  'get-preview-config': {
    module: handlerModule('http/get-preview-config.ts', () => import('./http/get-preview-config.js')),
    access: { tables: ownPreview, generations: true, listsDatabaseSnapshots: true },
  },
  'query-logs': {
    module: handlerModule('http/query-logs.ts', () => import('./http/query-logs.js')),
    access: { tables: ownPreview, previewLogs: true },
  },
  'export-logs': {
    module: handlerModule('http/export-logs.ts', () => import('./http/export-logs.js')),
    access: { tables: ownPreview, previewLogs: true, exports: true },
    memorySize: 1024,
  },
  'extend-preview': {
    module: handlerModule('http/extend-preview.ts', () => import('./http/extend-preview.js')),
    access: { tables: { previews: 'readwrite', events: 'readwrite' }, websocket: true },
  },
  'rotate-preview-token': {
    module: handlerModule('http/rotate-preview-token.ts', () => import('./http/rotate-preview-token.js')),
    access: { tables: { previews: 'readwrite', events: 'readwrite' }, websocket: true },
  },
  'get-metrics': {
    module: handlerModule('http/get-metrics.ts', () => import('./http/get-metrics.js')),
    access: { tables: { ...ownPreview, metrics: 'read' } },
  },
  'compare-versions': {
    module: handlerModule('http/compare-versions.ts', () => import('./http/compare-versions.js')),
    // Compares measured performance and asks both apps for their OpenAPI documents.
    access: { tables: { ...ownPreview, metrics: 'readwrite' }, generations: true, reachesTasks: true },
  },
  'list-events': {
    module: handlerModule('http/list-events.ts', () => import('./http/list-events.js')),
    access: { tables: { ...ownPreview, events: 'read' } },
  },
};

/** The WebSocket routes' functions, by route name (`websocket/routes.ts`); deployed as `ws-<name>`. */
export const webSocketFunctions: { readonly [Name in WebSocketRouteName]: WebSocketFunction } = {
  connect: {
    module: handlerModule('websocket/connect.ts', () => import('./websocket/connect.js')),
    // Finds the preview by its token (index byTokenHash), records the connection, starts its replay.
    access: { tables: { previews: 'read' }, websocket: true, startsReplays: true },
    pages: true,
  },
  disconnect: {
    module: handlerModule('websocket/disconnect.ts', () => import('./websocket/disconnect.js')),
    access: { websocket: true },
  },
  subscribe: {
    module: handlerModule('websocket/subscribe.ts', () => import('./websocket/subscribe.js')),
    access: { websocket: true },
  },
  unsubscribe: {
    module: handlerModule('websocket/unsubscribe.ts', () => import('./websocket/unsubscribe.js')),
    access: { websocket: true },
  },
  ping: {
    module: handlerModule('websocket/ping.ts', () => import('./websocket/ping.js')),
    access: { websocket: true },
  },
  default: {
    module: handlerModule('websocket/default.ts', () => import('./websocket/default.js')),
    access: { websocket: true },
  },
};

/** The TOKEN authorizer of the REST API (lib/jwt-authorizer.ts): it reads only the JWT settings. */
export const authorizerModule = handlerModule('authorizer.ts', () => import('./authorizer.js'));

/**
 * How an event function is invoked, and the handler that fits: `preview-logs`, the subscription
 * filter of the preview log group; `task-state`, EventBridge's ECS task state changes of the
 * preview cluster; `schedule`, an EventBridge schedule at a fixed rate; `invoked`, asynchronously
 * by other functions, by a name fixed per stage.
 */
type Triggered<Trigger, Handler extends AnyHandler> = {
  readonly trigger: Trigger;
} & FunctionDeclaration<{ readonly handler: Handler }>;

export type EventFunction = {
  readonly description: string;
  /**
   * Asynchronous delivery: attempts after the first, and how long an event may wait, before it goes
   * to the failed-events queue.
   */
  readonly retries: { readonly attempts: number; readonly maxEventAgeMinutes: number };
} & (
  | Triggered<{ readonly kind: 'preview-logs' }, (event: CloudWatchLogsEvent) => Promise<unknown>>
  | Triggered<{ readonly kind: 'task-state' }, (event: TaskStateChangeEvent) => Promise<unknown>>
  | Triggered<
      { readonly kind: 'schedule'; readonly everyMinutes: number },
      (event: ScheduledEvent) => Promise<unknown>
    >
  | Triggered<{ readonly kind: 'invoked' }, AnyHandler>
);

/**
 * The longest a launch may take: start-preview's timeout (the most Lambda allows), which the image
 * build's own timeouts fit within. The sweeper fails launches older than this.
 */
export const launchTimeoutSeconds = 15 * 60;

/** Every function outside the APIs. */
export const eventFunctions = {
  'start-preview': {
    description: 'Builds the image and starts the task of a launched preview',
    trigger: { kind: 'invoked' },
    module: handlerModule('tasks/start-preview.ts', () => import('./tasks/start-preview.js')),
    access: {
      tables: changesStatus,
      generations: true,
      runtime: 'run',
      reachesTasks: true,
      websocket: true,
      makesDatabaseSnapshots: true,
    },
    // A build on CodeBuild followed to healthy takes minutes.
    timeoutSeconds: launchTimeoutSeconds,
    memorySize: 1024,
    // A second attempt would race the first over the same preview; a failure is recorded on the preview.
    retries: { attempts: 0, maxEventAgeMinutes: 15 },
    pages: true,
  },
  'log-replay': {
    description: 'Sends a new WebSocket connection the log lines it asked to see again',
    trigger: { kind: 'invoked' },
    module: handlerModule('websocket/replay.ts', () => import('./websocket/replay.js')),
    access: { tables: { previews: 'read' }, websocket: true, previewLogs: true },
    timeoutSeconds: 60,
    // A replay for a connection that has gone is pointless: one quick retry at most.
    retries: { attempts: 1, maxEventAgeMinutes: 2 },
    pages: false,
  },
  'log-fan-out': {
    description: 'Posts preview log lines to the subscribed WebSocket connections',
    trigger: { kind: 'preview-logs' },
    module: handlerModule('logs/fan-out.ts', () => import('./logs/fan-out.js')),
    access: { websocket: true, previewLogs: true, slicesFanOut: true },
    timeoutSeconds: 60,
    memorySize: 1024,
    // Lines are live data: one quick retry, then they are only in the log group (queries, replay).
    retries: { attempts: 1, maxEventAgeMinutes: 5 },
    pages: true,
  },
  'task-state-change': {
    description: 'Follows ECS task state changes of preview tasks',
    trigger: { kind: 'task-state' },
    module: handlerModule('events/task-state-change.ts', () => import('./events/task-state-change.js')),
    // Refreshing the preview may recover it (a new task, maybe a new image).
    access: recoversPreviews,
    timeoutSeconds: 5 * 60,
    retries: { attempts: 2, maxEventAgeMinutes: 60 },
    pages: true,
  },
  'check-health': {
    description: 'Health-checks serving previews and recovers unhealthy ones',
    trigger: { kind: 'schedule', everyMinutes: 1 },
    module: handlerModule('schedules/check-health.ts', () => import('./schedules/check-health.js')),
    access: recoversPreviews,
    timeoutSeconds: 5 * 60,
    // The next run a minute later does the same work with fresher data. Runs go one at a time: a run
    // due while the previous one lasts waits for it (its timeout), and only then, if still waiting,
    // counts as failed (the runs cannot keep up).
    retries: { attempts: 0, maxEventAgeMinutes: 6 },
    pages: true,
  },
  'sweep-previews': {
    description: 'Stops expired previews, hung launches and orphaned tasks',
    trigger: { kind: 'schedule', everyMinutes: 5 },
    module: handlerModule('schedules/sweep-previews.ts', () => import('./schedules/sweep-previews.js')),
    // Refreshing a preview whose task vanished recovers it: a new task, maybe a new image.
    access: { tables: changesStatus, generations: true, runtime: 'run', websocket: true },
    timeoutSeconds: 5 * 60,
    // One at a time, like the health checks: a due run may wait for the previous one to end.
    retries: { attempts: 0, maxEventAgeMinutes: 10 },
    pages: true,
  },
} satisfies Record<string, EventFunction>;

/**
 * Run by the local runtime only: it samples Docker and process stats. In AWS, Container Insights
 * records resource use and the ECS runner has no stats, so no function is deployed.
 */
export const localSchedules = {
  'sample-resources': handlerModule(
    'schedules/sample-resources.ts',
    () => import('./schedules/sample-resources.js'),
  ),
};
