import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  authorizerModule,
  eventFunctions,
  localSchedules,
  restFunctions,
  webSocketFunctions,
  type HandlerModule,
} from '#handlers/registry.js';

const handlersFolder = fileURLToPath(new URL('../../functions/handlers/', import.meta.url));

const modules: [string, HandlerModule][] = [
  ['authorizer', authorizerModule],
  ...Object.entries(restFunctions).map(([name, fn]): [string, HandlerModule] => [name, fn.module]),
  ...Object.entries(webSocketFunctions).map(([name, fn]): [string, HandlerModule] => [
    `ws-${name}`,
    fn.module,
  ]),
  ...Object.entries(eventFunctions).map(([name, fn]): [string, HandlerModule] => [name, fn.module]),
  ...Object.entries(localSchedules),
];

describe('function registry', () => {
  // The loaders are type-checked imports; `entry`, which the stack bundles, is a plain path.
  it.each(modules)(
    '%s: the bundled entry is the module the loader imports, and it exports a handler',
    async (_, module) => {
      const file = fileURLToPath(module.entry);
      expect(existsSync(file), file).toBe(true);
      const loaded = await module.load();
      expect(loaded).toBe(await import(module.entry.href));
      expect(loaded.handler).toBeTypeOf('function');
    },
  );

  it('names every handler module of the repository, each once', () => {
    const registered = modules.map(([, module]) =>
      path.relative(handlersFolder, fileURLToPath(module.entry)),
    );
    expect(new Set(registered).size).toBe(registered.length);
    // What the handlers share (route tables, wrappers, the OpenAPI document and its examples, event decoding) is no function.
    const shared =
      /^(?:[^/]+\/)?(?:routes|http-route|openapi-document|openapi-examples|asyncapi-document|asyncapi-page|websocket-route|subscription-event)\.ts$/;
    const handlerFolders = ['http', 'websocket', 'logs', 'events', 'schedules', 'tasks'];
    const files = [
      'authorizer.ts',
      ...handlerFolders.flatMap((folder) =>
        readdirSync(path.join(handlersFolder, folder)).map((file) => `${folder}/${file}`),
      ),
    ].filter((file) => !shared.test(file));
    expect(new Set(registered)).toEqual(new Set(files));
  });
});
