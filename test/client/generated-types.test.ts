import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generatedTypes, generatedTypesPath } from '../../client/scripts/generated-types.js';

describe("the client's generated types", () => {
  it('match the OpenAPI document the service serves (else run `npm run generate:client`)', async () => {
    expect(await readFile(generatedTypesPath, 'utf8')).toBe(await generatedTypes());
  });
});
