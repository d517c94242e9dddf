import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The route handlers by name, loaded on first use like a Lambda cold start. Literal import
 * paths keep them visible to bundlers and test runners; a test checks this matches the routes.
 */
export const httpHandlers: Record<string, () => Promise<{ handler: ProxyHandler }>> = {
  'list-previews': () => import('../handlers/http/list-previews.js'),
  'get-openapi': () => import('../handlers/http/get-openapi.js'),
  'launch-preview': () => import('../handlers/http/launch-preview.js'),
  'get-preview-status': () => import('../handlers/http/get-preview-status.js'),
  'delete-preview': () => import('../handlers/http/delete-preview.js'),
  'list-endpoints': () => import('../handlers/http/list-endpoints.js'),
  'send-test-request': () => import('../handlers/http/send-test-request.js'),
  'proxy-preview': () => import('../handlers/http/proxy-preview.js'),
  'get-preview-config': () => import('../handlers/http/get-preview-config.js'),
  'query-logs': () => import('../handlers/http/query-logs.js'),
  'export-logs': () => import('../handlers/http/export-logs.js'),
  'extend-preview': () => import('../handlers/http/extend-preview.js'),
  'rotate-preview-token': () => import('../handlers/http/rotate-preview-token.js'),
  'get-metrics': () => import('../handlers/http/get-metrics.js'),
  'compare-versions': () => import('../handlers/http/compare-versions.js'),
  'list-events': () => import('../handlers/http/list-events.js'),
};
