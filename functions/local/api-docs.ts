import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { GatewayExtension } from './gateway.js';

/** Redoc's standalone bundle, served from node_modules: the page loads nothing from elsewhere. */
const viewerPath = '/docs/assets/redoc.standalone.js';
const viewerFile = createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js');
/**
 * The one address on another host the viewer loads by itself: its maker's logo under the sidebar.
 * Served without it, the image fails at once and the viewer hides it, without a request.
 */
const viewerLogo = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
let viewer: Promise<Buffer> | undefined;

/** The bundle as served, read once. */
function viewerBundle(): Promise<Buffer> {
  viewer ??= readFile(viewerFile, 'utf8').then(
    (text) => Buffer.from(text.replaceAll(viewerLogo, '')),
    (error: unknown) => {
      // Read again on the next request.
      viewer = undefined;
      throw error;
    },
  );
  return viewer;
}

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Preview service API</title>
    <link rel="icon" href="data:," />
    <style>
      body { margin: 0; font-family: system-ui, sans-serif; }
      nav { padding: 0.75rem 1.25rem; border-bottom: 1px solid #ddd; }
    </style>
  </head>
  <body>
    <nav>
      REST API (this page) · <a href="/docs/websocket">WebSocket contract</a> ·
      <a href="/api/openapi.json">OpenAPI document</a>
    </nav>
    <redoc spec-url="/api/openapi.json"></redoc>
    <script src="${viewerPath}"></script>
  </body>
</html>
`;

/** Images, fonts and requests from this server only; scripts and styles are the page's and the bundle's. */
export const pageFetchPolicy =
  "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-src 'none'";

function sendPage(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(page)),
    // Should the viewer try another host anyway, the browser refuses: the page fetches from here only.
    'content-security-policy': pageFetchPolicy,
  });
  res.end(req.method === 'HEAD' ? undefined : page);
}

async function sendViewer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const bundle = await viewerBundle();
  res.writeHead(200, {
    'content-type': 'text/javascript; charset=utf-8',
    'content-length': String(bundle.length),
    'cache-control': 'public, max-age=3600',
  });
  res.end(req.method === 'HEAD' ? undefined : bundle);
}

/**
 * `GET /docs`: the OpenAPI document rendered by a bundled viewer, for integrators running the
 * service locally. Only its own paths are taken; every other `/docs/…` path goes on.
 */
export const apiDocs: GatewayExtension = {
  request(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname === '/docs' || pathname === '/docs/') {
      sendPage(req, res);
      return true;
    }
    if (pathname !== viewerPath) return false;
    void sendViewer(req, res).catch((error: unknown) => {
      console.warn('api docs: the viewer is missing', error);
      res.destroy();
    });
    return true;
  },
};
