import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generatedTypes, generatedTypesPath } from './generated-types.js';

/** `npm run generate:client`: writes the client's types; commit the result. */
await mkdir(dirname(generatedTypesPath), { recursive: true });
await writeFile(generatedTypesPath, await generatedTypes());
console.log(`wrote ${generatedTypesPath}`);
