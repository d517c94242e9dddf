import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

/** tsx's module hooks, as an ES module (its CommonJS build registers hooks it cannot find). */
function tsxHooksUrl(): string {
  const manifest = require.resolve('tsx/package.json');
  const { exports } = require('tsx/package.json') as {
    exports: Record<string, { import: { default: string } }>;
  };
  const entry = exports['./esm/api']?.import.default;
  if (!entry) throw new Error("tsx does not export './esm/api'");
  return pathToFileURL(join(dirname(manifest), entry)).href;
}

/**
 * A worker thread running a TypeScript module of this repository. The bench runs from source
 * (tsx), and a worker does not inherit the parent's module hooks: it registers tsx's own before
 * it imports the module.
 */
export function typeScriptWorker(module: URL): Worker {
  const tsx = tsxHooksUrl();
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((tsx) => {
      tsx.register();
      return import(${JSON.stringify(module.href)});
    });`,
    { eval: true },
  );
}
