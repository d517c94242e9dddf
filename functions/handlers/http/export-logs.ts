import { generationPathSchema, logsExportQuerySchema } from '#core/api-schemas.js';
import { requireLogs } from '../log-services.js';
import { httpRoute, type RouteResult } from './http-route.js';

/**
 * The file itself when it fits a Lambda response; otherwise a 303 to a download URL (S3 presigned
 * in AWS, the local gateway's export folder locally), which clients follow like any redirect.
 */
export const handler = httpRoute(
  { path: generationPathSchema, query: logsExportQuerySchema },
  async ({ identity, services, path, query }): Promise<RouteResult> => {
    const result = await requireLogs(services.logs).queries.export(identity, path.generationId, query);
    if (result.kind === 'inline') {
      return {
        statusCode: 200,
        rawBody: result.body,
        headers: {
          'content-type': result.file.contentType,
          'content-disposition': `attachment; filename="${result.file.filename}"`,
          'cache-control': 'no-store',
        },
      };
    }
    return {
      statusCode: 303,
      headers: { location: result.url },
      body: { url: result.url, expiresAt: result.expiresAt.toISOString(), bytes: result.bytes },
    };
  },
);
