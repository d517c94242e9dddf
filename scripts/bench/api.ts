import type { LaunchResponse, StatusResponse } from '#core/api-schemas.js';
import type { TierName } from '#core/tiers.js';
import { mintToken } from '#local/mint-token.js';

/** No single call to the local gateway may hang the bench. */
const requestTimeoutMs = 30_000;

export interface ApiResponse {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bodies are read field by field
  readonly json: any;
}

export interface PreviewEvent {
  readonly type: string;
  readonly data?: Record<string, unknown>;
}

/** One user of the local gateway: every call carries that user's bearer token. */
export class UserApi {
  private constructor(
    readonly baseUrl: string,
    readonly userId: string,
    private readonly token: string,
  ) {}

  static async create(baseUrl: string, secret: string, userId: string, tier: TierName): Promise<UserApi> {
    return new UserApi(baseUrl, userId, await mintToken(secret, userId, tier));
  }

  get authorization(): string {
    return `Bearer ${this.token}`;
  }

  async call(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: this.authorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: response.status, json };
  }

  async launch(generationId: string): Promise<LaunchResponse> {
    const response = await this.call('POST', `/api/generations/${generationId}/preview/launch`, {});
    if (response.status !== 202 && response.status !== 200) {
      throw new Error(
        `launch of ${generationId} answered ${response.status}: ${JSON.stringify(response.json)}`,
      );
    }
    return response.json as LaunchResponse;
  }

  async status(generationId: string): Promise<StatusResponse> {
    const response = await this.call('GET', `/api/generations/${generationId}/preview/status`);
    if (response.status !== 200) {
      throw new Error(
        `status of ${generationId} answered ${response.status}: ${JSON.stringify(response.json)}`,
      );
    }
    return response.json as StatusResponse;
  }

  async events(generationId: string): Promise<PreviewEvent[]> {
    const response = await this.call('GET', `/api/generations/${generationId}/preview/events?limit=100`);
    return response.status === 200 ? (response.json.events as PreviewEvent[]) : [];
  }

  /** DELETE is idempotent; 404 means there was nothing to stop. */
  async remove(generationId: string): Promise<void> {
    const response = await this.call('DELETE', `/api/generations/${generationId}/preview`);
    if (response.status !== 200 && response.status !== 404) {
      throw new Error(
        `delete of ${generationId} answered ${response.status}: ${JSON.stringify(response.json)}`,
      );
    }
  }
}

export const settledStatuses = new Set(['healthy', 'failed', 'stopped']);

/** Polls status until the preview is healthy or finished, or the deadline passes. */
export async function waitUntilSettled(
  api: UserApi,
  generationId: string,
  options: { pollMs: number; timeoutMs: number },
): Promise<StatusResponse> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const status = await api.status(generationId);
    if (settledStatuses.has(status.status) || performance.now() > deadline) return status;
    await sleep(options.pollMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
