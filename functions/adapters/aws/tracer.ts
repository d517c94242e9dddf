import './xray-context-mode.js';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { serviceName } from '#core/service-metrics.js';

/**
 * The functions' X-Ray tracer: each invocation is a segment (see handlers/lambda-handler.ts) and
 * every AWS SDK client call a subsegment (clients.ts). Outgoing HTTP is not patched: the proxy must
 * send a preview exactly what its client sent, with no trace header added.
 */
export const tracer = new Tracer({ serviceName, captureHTTPsRequests: false });
