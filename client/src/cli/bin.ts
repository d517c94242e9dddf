import { runCli } from './main.js';
import type { WebSocketConstructor } from '../log-stream.js';

/** `preview …`: Node 22 has a global WebSocket; Node 20 uses the `ws` package's. */
const WebSocket =
  (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ??
  ((await import('ws')).WebSocket as unknown as WebSocketConstructor);

const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());
process.once('SIGTERM', () => interrupted.abort());

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  out: process.stdout,
  err: process.stderr,
  WebSocket,
  signal: interrupted.signal,
});
