import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The route handlers by name, loaded on first use like a Lambda cold start. Literal import
 * paths keep them visible to bundlers and test runners; a test checks this matches the routes.
 */
export const httpHandlers: Record<string, () => Promise<{ handler: ProxyHandler }>> = {
  'list-previews': () => import('../../functions/handlers/http/list-previews.js'),
  'get-openapi': () => import('../../functions/handlers/http/get-openapi.js'),
  'launch-preview': () => import('../../functions/handlers/http/launch-preview.js'),
  'get-preview-status': () => import('../../functions/handlers/http/get-preview-status.js'),
  'delete-preview': () => import('../../functions/handlers/http/delete-preview.js'),
  'list-endpoints': () => import('../../functions/handlers/http/list-endpoints.js'),
  'send-test-request': () => import('../../functions/handlers/http/send-test-request.js'),
  'proxy-preview': () => import('../../functions/handlers/http/proxy-preview.js'),
  'get-preview-config': () => import('../../functions/handlers/http/get-preview-config.js'),
  'query-logs': () => import('../../functions/handlers/http/query-logs.js'),
  'export-logs': () => import('../../functions/handlers/http/export-logs.js'),
  'extend-preview': () => import('../../functions/handlers/http/extend-preview.js'),
  'rotate-preview-token': () => import('../../functions/handlers/http/rotate-preview-token.js'),
  'get-metrics': () => import('../../functions/handlers/http/get-metrics.js'),
  'compare-versions': () => import('../../functions/handlers/http/compare-versions.js'),
  'list-events': () => import('../../functions/handlers/http/list-events.js'),
};
