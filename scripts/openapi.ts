import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { openApiDocument } from '#handlers/http/openapi-document.js';

/**
 * `npm run lint:contracts`: writes the OpenAPI document the service serves, built from the route
 * table and schemas (nothing is started), to the path given, for Redocly to lint.
 */
const [target] = process.argv.slice(2);
if (!target) throw new Error('usage: tsx scripts/openapi.ts <file.json>');
await mkdir(dirname(target), { recursive: true });
await writeFile(target, `${JSON.stringify(openApiDocument('http://127.0.0.1:3000'), null, 2)}\n`);
