import { ConfigError } from '#core/config.js';
import { localDataDir } from '#local/dev-secret.js';
import { gatewayPort, startLocalRuntime } from '#local/local-runtime.js';

/**
 * The last resort: a fault that escaped every guard is logged and the service keeps serving
 * everyone else, as a Lambda runtime would survive one failed invocation.
 */
function keepServingOnUnexpectedErrors(): void {
  process.on('uncaughtException', (error) => console.error('unexpected error (still serving):', error));
  process.on('unhandledRejection', (reason) =>
    console.error('unexpected rejection (still serving):', reason),
  );
}

function runnerDescription(kind: string | undefined): string {
  if (kind === 'docker') return 'run on the local Docker engine';
  if (kind === 'process') return 'run as local processes';
  return 'cannot run (no Docker engine): launches answer 503';
}

/** `npm start`: the whole service on this machine. */
async function main(): Promise<void> {
  const runtime = await startLocalRuntime({ port: gatewayPort(), dataDir: localDataDir });
  if (runtime.notice) console.warn(`Notice: ${runtime.notice}`);
  console.log(`Preview service listening on ${runtime.url}
  console:  ${runtime.url}/ (paste a token from the command below)
  previews: ${runnerDescription(runtime.runnerKind)}
  data:     ${runtime.dynamoDb} (DynamoDB API), ${localDataDir}/ for everything local
  token:    npm run -s token -- --user <id> --tier <free|pro|enterprise>
  try:      curl -H "Authorization: Bearer $(npm run -s token)" ${runtime.url}/api/previews
  contract: ${runtime.url}/api/openapi.json (read it at ${runtime.url}/docs)
Stop with Ctrl+C.`);
  keepServingOnUnexpectedErrors();
  const stop = () => {
    void runtime.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (
    error instanceof ConfigError ||
    (error instanceof Error && error.message.startsWith('Invalid configuration'))
  ) {
    console.error(error.message);
  } else if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
    console.error(`Port ${gatewayPort()} is in use: stop what holds it or set PREVIEW_PORT to another port.`);
  } else {
    console.error('The preview service could not start:', error);
  }
  process.exit(1);
});
