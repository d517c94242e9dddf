/**
 * The REST API's route table: one entry per API Gateway resource and method. `handler` names the
 * route's function in the registry (`restFunctions` in ../registry.ts), which must have one for
 * each route: the CDK stack deploys it and the local gateway runs it. Routes may share a function
 * (the proxy's root and its paths below). The OpenAPI document lists
 * these routes; handlers may import this table, which carries no handler modules.
 */
export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'DELETE' | 'ANY';
  /** API Gateway resource path, with `{name}` and `{name+}` parameters. */
  readonly path: string;
  readonly handler: string;
  /** False only for documents that need no identity (the OpenAPI and AsyncAPI documents, the WebSocket page). */
  readonly authenticated: boolean;
}

const generation = '/api/generations/{generationId}';

export const routes = [
  { method: 'GET', path: '/api/previews', handler: 'list-previews', authenticated: true },
  { method: 'GET', path: '/api/openapi.json', handler: 'get-openapi', authenticated: false },
  { method: 'GET', path: '/api/asyncapi.json', handler: 'get-asyncapi', authenticated: false },
  { method: 'GET', path: '/docs/websocket', handler: 'get-websocket-docs', authenticated: false },
  { method: 'POST', path: `${generation}/preview/launch`, handler: 'launch-preview', authenticated: true },
  { method: 'GET', path: `${generation}/preview/status`, handler: 'get-preview-status', authenticated: true },
  { method: 'DELETE', path: `${generation}/preview`, handler: 'delete-preview', authenticated: true },
  { method: 'GET', path: `${generation}/endpoints`, handler: 'list-endpoints', authenticated: true },
  {
    method: 'POST',
    path: `${generation}/preview/request`,
    handler: 'send-test-request',
    authenticated: true,
  },
  // The app's root (`…/proxy` and `…/proxy/`): a greedy parameter never matches an empty path.
  { method: 'ANY', path: `${generation}/preview/proxy`, handler: 'proxy-preview', authenticated: true },
  {
    method: 'ANY',
    path: `${generation}/preview/proxy/{proxy+}`,
    handler: 'proxy-preview',
    authenticated: true,
  },
  { method: 'GET', path: `${generation}/preview/config`, handler: 'get-preview-config', authenticated: true },
  { method: 'GET', path: `${generation}/preview/logs`, handler: 'query-logs', authenticated: true },
  { method: 'GET', path: `${generation}/preview/logs/export`, handler: 'export-logs', authenticated: true },
  { method: 'POST', path: `${generation}/preview/extend`, handler: 'extend-preview', authenticated: true },
  {
    method: 'POST',
    path: `${generation}/preview/token`,
    handler: 'rotate-preview-token',
    authenticated: true,
  },
  { method: 'GET', path: `${generation}/preview/metrics`, handler: 'get-metrics', authenticated: true },
  {
    method: 'GET',
    path: `${generation}/preview/compare/{otherVersionId}`,
    handler: 'compare-versions',
    authenticated: true,
  },
  { method: 'GET', path: `${generation}/preview/events`, handler: 'list-events', authenticated: true },
] as const satisfies readonly RouteDefinition[];

export type RestRouteName = (typeof routes)[number]['handler'];
