import type { AppHttpClient, AppRequest, AppResponse } from '#core/app-request.js';
import { parseGenerationSource } from '#core/generation.js';
import type { GenerationStore } from '#core/ports.js';

/** A generation as parsed from its files: a generation.json with these fields over the defaults. */
export function generationSourceOf(generationId: string, fields: Record<string, unknown> = {}) {
  const manifest = {
    id: generationId,
    projectId: 'proj-1',
    dbType: 'none',
    entryPoint: 'uvicorn app.main:app',
  };
  return parseGenerationSource(
    generationId,
    new Map([
      ['generation.json', Buffer.from(JSON.stringify({ ...manifest, ...fields }))],
      ['Dockerfile', Buffer.from('FROM python:3.11-slim\n')],
    ]),
  );
}

/** Generations by id, each from a generation.json with the fields a test gives. */
export function generationsOf(manifests: Record<string, Record<string, unknown>>): GenerationStore {
  return {
    async load(generationId) {
      const fields = manifests[generationId];
      return fields ? generationSourceOf(generationId, fields) : undefined;
    },
  };
}

/** The app behind the proxy: answers what the test tells it, and keeps what it was sent. */
export class FakeApp implements AppHttpClient {
  readonly requests: { endpoint: { host: string; port: number }; request: AppRequest }[] = [];
  answer: (request: AppRequest) => AppResponse | Promise<AppResponse> = () => json(200, {});

  async send(endpoint: { host: string; port: number }, request: AppRequest): Promise<AppResponse> {
    this.requests.push({ endpoint, request });
    return this.answer(request);
  }
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): AppResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(body)),
    durationMs: 12.345,
  };
}
