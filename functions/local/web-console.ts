import type { IncomingMessage, ServerResponse } from 'node:http';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AppError, errorBody } from '#core/errors.js';
import { statusOf } from '#handlers/error-answer.js';
import { services } from '#handlers/services.js';
import type { GatewayExtension } from './gateway.js';

/** The console's entry point; bundled with its libraries on the first request, then kept in memory. */
const entryPoint = fileURLToPath(new URL('../../console/src/main.tsx', import.meta.url));

interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** What the page needs to know before it can call the API: read by the console, never executed. */
interface ConsoleSettings {
  readonly examples: readonly string[];
}

async function bundle(): Promise<Map<string, Asset>> {
  // esbuild is a development dependency: the console exists only where `npm start` runs.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entryPoint],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: 'console',
    entryNames: 'app',
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    const contentType = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assets.set(`/console/${name}`, { contentType, body: Buffer.from(file.contents) });
  }
  return assets;
}

/** The local examples a launch can name: the generation folders the local store reads. */
async function localExamples(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

function page(settings: ConsoleSettings): string {
  // `<` is escaped so that no example name can close the data block.
  const json = JSON.stringify(settings).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preview console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/app.css">
<script type="application/json" id="console-settings">${json}</script>
<script type="module" src="/console/app.js"></script>
</head>
<body><div id="console"></div></body>
</html>
`;
}

/**
 * Only this origin's own script and styles run; the page talks to this API and to the preview
 * WebSocket URLs it hands out (the public URL's host), and may not be framed.
 */
function securityHeaders(publicUrl: string): Record<string, string> {
  const webSocketOrigin = new URL(publicUrl).origin.replace(/^http/, 'ws');
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ${webSocketOrigin}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}

/**
 * The web console at `/`: a page and its bundled script and styles. It holds no secret and mints
 * no token: the user pastes a token, and the page calls the REST API with it like any client.
 */
export class WebConsole implements GatewayExtension {
  private assets: Promise<Map<string, Asset>> | undefined;

  request(req: IncomingMessage, res: ServerResponse): boolean {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path !== '/' && !path.startsWith('/console/')) return false;
    const headOnly = req.method === 'HEAD';
    void this.answer(path)
      .then(({ status, contentType, body }) => {
        res.writeHead(status, {
          ...securityHeaders(services().config.publicUrl),
          'content-type': contentType,
          'content-length': String(body.length),
        });
        res.end(headOnly ? undefined : body);
      })
      .catch((error: unknown) => {
        console.error('console: answer failed', error);
        if (res.headersSent) res.destroy();
        else sendError(res, new AppError('internal', 'The console could not be built; see the service log.'));
      });
    return true;
  }

  private async answer(path: string): Promise<{ status: number } & Asset> {
    if (path === '/') {
      const html = page({ examples: await localExamples(services().config.generations.directory) });
      return { status: 200, contentType: 'text/html; charset=utf-8', body: Buffer.from(html) };
    }
    const asset = (await this.bundled()).get(path);
    if (asset) return { status: 200, ...asset };
    const missing = new AppError('not_found', `No console file ${path}.`);
    return {
      status: statusOf(missing),
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify(errorBody(missing))),
    };
  }

  /** The bundle, built once; a failed build is tried again on the next request. */
  private bundled(): Promise<Map<string, Asset>> {
    this.assets ??= bundle().catch((error: unknown) => {
      this.assets = undefined;
      throw error;
    });
    return this.assets;
  }
}

function sendError(res: ServerResponse, error: AppError): void {
  const body = JSON.stringify(errorBody(error));
  res.writeHead(statusOf(error), {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}
