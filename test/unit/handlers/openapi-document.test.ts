import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../functions/handlers/http/openapi-document.js';

const document = openApiDocument('http://127.0.0.1:3000');
const extend = document.paths['/api/generations/{generationId}/preview/extend']?.post as {
  responses: Record<string, { description: string; headers?: object; content: unknown }>;
};
const codesOf = (status: string) =>
  (
    extend.responses[status]?.content as {
      'application/json': { schema: { properties: { error: { properties: { code: { enum: string[] } } } } } };
    }
  )['application/json'].schema.properties.error.properties.code.enum;

describe('the OpenAPI document', () => {
  it('names every refusal code under its status, with what it means', () => {
    expect(codesOf('409')).toEqual([
      'invalid_state',
      'quota_exceeded',
      'extension_limit_reached',
      'preview_not_running',
    ]);
    expect(extend.responses['409']?.description).toMatch(/`extension_limit_reached`: /);
  });

  it('tells when to retry, and never documents the internal version clash', () => {
    expect(codesOf('503')).toEqual(['unavailable', 'runtime_unavailable', 'maintenance']);
    expect(extend.responses['503']?.headers).toHaveProperty('Retry-After');
    expect(extend.responses['429']?.headers).toHaveProperty('Retry-After');
    expect(JSON.stringify(document)).not.toMatch(/"conflict"/);
  });
});
