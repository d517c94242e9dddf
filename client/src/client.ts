import createClient from 'openapi-fetch';
import { PreviewApiError } from './errors.js';
import type { operations, paths } from './generated/openapi.js';
import { PreviewLogStream, type PreviewLogStreamOptions } from './log-stream.js';
import type {
  AppEndpoints,
  ExtendResult,
  LogExport,
  LogsPage,
  PreviewConfig,
  RotatedToken,
  TestResponse,
} from './responses.js';

type Json<Operation extends keyof operations, Status extends number> = operations[Operation] extends {
  responses: { [S in Status]: { content: { 'application/json': infer Body } } };
}
  ? Body
  : never;
type Query<Operation extends keyof operations> = operations[Operation] extends {
  parameters: { query?: infer Q };
}
  ? NonNullable<Q>
  : never;
type Body<Operation extends keyof operations> = operations[Operation] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type PreviewList = Json<'list-previews', 200>;
export type LaunchRequest = Body<'launch-preview'>;
export type LaunchResponse = Json<'launch-preview', 202>;
export type PreviewStatus = Json<'get-preview-status', 200>;
export type StopResponse = Json<'delete-preview', 200>;
export type PreviewEvents = Json<'list-events', 200>;
export type PreviewMetrics = Json<'get-metrics', 200>;
export type VersionComparison = Json<'compare-versions', 200>;
export type LogsQuery = Query<'query-logs'>;
export type LogsExportQuery = Query<'export-logs'>;
export type MetricsQuery = Query<'get-metrics'>;
export type EventsQuery = Query<'list-events'>;
export type TestRequest = Body<'send-test-request'>;

/** The bearer token (the SaaS's JWT), or a function that returns a current one for each request. */
export type TokenSource = string | (() => string | Promise<string>);

export interface PreviewClientOptions {
  /** Where the REST API is, e.g. `http://127.0.0.1:3000` locally. */
  readonly baseUrl: string;
  readonly token: TokenSource;
  /** The fetch to use; the global one by default. */
  readonly fetch?: (request: Request) => Promise<Response>;
}

/** The service could not be reached at all (no answer, not an error answer). */
export class PreviewUnreachableError extends Error {
  override readonly name = 'PreviewUnreachableError';
}

interface Answer {
  readonly data?: unknown;
  readonly error?: unknown;
  readonly response: Response;
}

async function answered<T>(pending: Promise<Answer>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok || error !== undefined) {
    throw PreviewApiError.fromAnswer(response.status, error, response.headers);
  }
  return data as T;
}

const generationPath = (generationId: string) => ({ params: { path: { generationId } } });

/**
 * The REST API, typed from its OpenAPI document. Every method resolves with the success answer or
 * rejects with a `PreviewApiError` carrying the service's error code.
 */
export class PreviewClient {
  /** The underlying openapi-fetch client, for calls this class does not wrap. */
  readonly api;
  readonly baseUrl: string;

  constructor(options: PreviewClientOptions) {
    const baseFetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      fetch: async (request: Request) => {
        try {
          return await baseFetch(request);
        } catch (error) {
          throw new PreviewUnreachableError(`Cannot reach the preview service at ${this.baseUrl}.`, {
            cause: error,
          });
        }
      },
    });
    const token = options.token;
    this.api.use({
      async onRequest({ request }) {
        request.headers.set('authorization', `Bearer ${typeof token === 'string' ? token : await token()}`);
        return request;
      },
    });
  }

  listPreviews(): Promise<PreviewList> {
    return answered(this.api.GET('/api/previews'));
  }

  /**
   * Launches the generation's preview. `created` is true when this call started it (202: the
   * answer carries the preview token, once); false when a live preview of it was returned (200).
   */
  async launch(
    generationId: string,
    body: LaunchRequest = {},
    options: { wait?: number } = {},
  ): Promise<{ created: boolean; preview: LaunchResponse }> {
    const pending = this.api.POST('/api/generations/{generationId}/preview/launch', {
      params: { path: { generationId }, query: options.wait === undefined ? {} : { wait: options.wait } },
      body,
    });
    const { response } = await pending;
    const preview = await answered<LaunchResponse>(pending);
    return { created: response.status === 202, preview };
  }

  status(generationId: string): Promise<PreviewStatus> {
    return answered(
      this.api.GET('/api/generations/{generationId}/preview/status', generationPath(generationId)),
    );
  }

  delete(generationId: string): Promise<StopResponse> {
    return answered(this.api.DELETE('/api/generations/{generationId}/preview', generationPath(generationId)));
  }

  events(generationId: string, query: EventsQuery = {}): Promise<PreviewEvents> {
    return answered(
      this.api.GET('/api/generations/{generationId}/preview/events', {
        params: { path: { generationId }, query },
      }),
    );
  }

  endpoints(generationId: string): Promise<AppEndpoints> {
    return answered(this.api.GET('/api/generations/{generationId}/endpoints', generationPath(generationId)));
  }

  request(generationId: string, request: TestRequest): Promise<TestResponse> {
    return answered(
      this.api.POST('/api/generations/{generationId}/preview/request', {
        params: { path: { generationId } },
        body: request,
      }),
    );
  }

  config(generationId: string): Promise<PreviewConfig> {
    return answered(
      this.api.GET('/api/generations/{generationId}/preview/config', generationPath(generationId)),
    );
  }

  logs(generationId: string, query: LogsQuery = {}): Promise<LogsPage> {
    return answered(
      this.api.GET('/api/generations/{generationId}/preview/logs', {
        params: { path: { generationId }, query },
      }),
    );
  }

  /** Every line matching `query`, page after page. */
  async *allLogs(generationId: string, query: LogsQuery = {}): AsyncGenerator<LogsPage['logs'][number]> {
    let nextToken: string | undefined;
    do {
      const page: LogsPage = await this.logs(generationId, {
        ...query,
        ...(nextToken === undefined ? {} : { nextToken }),
      });
      yield* page.logs;
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  }

  /** The export file; a large one is fetched from the download link the service redirects to. */
  async exportLogs(generationId: string, query: LogsExportQuery): Promise<LogExport> {
    const pending = this.api.GET('/api/generations/{generationId}/preview/logs/export', {
      params: { path: { generationId }, query },
      parseAs: 'arrayBuffer',
    });
    const { response } = await pending;
    const body = await answered<ArrayBuffer>(pending);
    const disposition = response.headers.get('content-disposition') ?? '';
    return {
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      filename: /filename="([^"]+)"/.exec(disposition)?.[1],
      body: new Uint8Array(body),
    };
  }

  extend(generationId: string, durationSeconds?: number): Promise<ExtendResult> {
    return answered(
      this.api.POST('/api/generations/{generationId}/preview/extend', {
        params: { path: { generationId } },
        body: durationSeconds === undefined ? {} : { duration: durationSeconds },
      }),
    );
  }

  /** A new preview token; the previous one stops working and its live connections are closed. */
  rotateToken(generationId: string): Promise<RotatedToken> {
    return answered(
      this.api.POST('/api/generations/{generationId}/preview/token', generationPath(generationId)),
    );
  }

  metrics(generationId: string, query: MetricsQuery = {}): Promise<PreviewMetrics> {
    return answered(
      this.api.GET('/api/generations/{generationId}/preview/metrics', {
        params: { path: { generationId }, query },
      }),
    );
  }

  compare(generationId: string, otherVersionId: string): Promise<VersionComparison> {
    return answered(
      this.api.GET('/api/generations/{generationId}/preview/compare/{otherVersionId}', {
        params: { path: { generationId, otherVersionId } },
      }),
    );
  }

  /** The preview's live stream (`wsUrl` from launch), opened with its preview token. */
  logStream(options: PreviewLogStreamOptions): PreviewLogStream {
    return new PreviewLogStream(options);
  }
}
