import type { Clock } from '#core/clock.js';
import type { TierName } from '#core/tiers.js';
import { startLocalRuntime, type LocalRuntime } from '#local/local-runtime.js';
import { mintToken } from '#local/mint-token.js';

export interface ApiResponse {
  readonly status: number;
  // Bodies are checked field by field against the documented shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
}

/** The local service on Docker for one test file, driven over real HTTP as one user. */
export interface TestService {
  readonly runtime: LocalRuntime;
  readonly token: string;
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Launches and waits until the preview is healthy or has failed; remembered for `close`. */
  launch(
    generationId: string,
    body?: Record<string, unknown>,
  ): Promise<ApiResponse & { settled: ApiResponse['json'] }>;
  status(generationId: string): Promise<ApiResponse['json']>;
  /** Deletes every preview it launched, then stops the service. */
  close(): Promise<void>;
}

const secret = 'test-service-secret-test-service-secret';

/** Polls `read` until `done` holds (returning that value) or `seconds` pass (returning the last). */
export async function until<T>(
  seconds: number,
  read: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function startTestService(options: {
  tier: TierName;
  env?: Record<string, string>;
  clock?: Clock;
}): Promise<TestService> {
  Object.assign(process.env, { PREVIEW_JWT_SECRET: secret, PREVIEW_RUNNER: 'docker', ...options.env });
  const runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  // A user per run, so previews of earlier runs never collide.
  const token = await mintToken(
    secret,
    `test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
    options.tier,
  );
  const launched = new Set<string>();

  const api: TestService['api'] = async (method, path, body, headers = {}) => {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: the text itself.
    }
    return { status: response.status, json };
  };
  const status = async (generationId: string) =>
    (await api('GET', `/api/generations/${generationId}/preview/status`)).json;

  return {
    runtime,
    token,
    api,
    status,
    async launch(generationId, body = {}) {
      launched.add(generationId);
      const response = await api('POST', `/api/generations/${generationId}/preview/launch`, body);
      const settled = await until(
        90,
        () => status(generationId),
        (s) => ['healthy', 'failed', 'stopped'].includes(s.status),
      );
      return { ...response, settled };
    },
    async close() {
      for (const generationId of launched) await api('DELETE', `/api/generations/${generationId}/preview`);
      await runtime.close();
    },
  };
}
