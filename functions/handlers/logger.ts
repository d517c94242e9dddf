import { Logger } from '@aws-lambda-powertools/logger';
import { serviceName } from '#core/service-metrics.js';

/**
 * The one structured logger of the functions (JSON lines; CloudWatch in AWS, stdout locally). Each
 * invocation adds its Lambda context to every line (see lambda-handler.ts).
 */
export const logger = new Logger({ serviceName });
