import { Logger } from '@aws-lambda-powertools/logger';

/** The one structured logger of the functions (JSON lines; CloudWatch in AWS, stdout locally). */
export const logger = new Logger({ serviceName: 'preview-service' });
