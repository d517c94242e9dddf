import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { unavailableIfTransient } from './dynamodb-errors.js';
import { tracer } from './tracer.js';

/**
 * The AWS clients, created once per process and shared, each traced (a subsegment per call in
 * Lambda; untouched elsewhere). Endpoints follow the standard `AWS_ENDPOINT_URL_*` variables, which
 * is how the local runtime points them at its emulators.
 */
let documentClient: DynamoDBDocumentClient | undefined;
let s3Client: S3Client | undefined;
let ecsClient: ECSClient | undefined;
let ecrClient: ECRClient | undefined;
let codeBuildClient: CodeBuildClient | undefined;
let logsClient: CloudWatchLogsClient | undefined;
const managementClients = new Map<string, ApiGatewayManagementApiClient>();
let lambdaClient: LambdaClient | undefined;
let ssmClient: SSMClient | undefined;

/**
 * Attempts per DynamoDB call, with the SDK's standard backoff (jittered exponential; longer for
 * throttling): enough to ride out a burst, short enough to answer within API Gateway's 29 s.
 */
export const dynamoDbMaxAttempts = 4;

/**
 * Sockets per DynamoDB client. A Lambda instance serves one request at a time, but the local service
 * serves every preview from one process: 100 launches at once queued behind the SDK's default 50.
 */
const dynamoDbMaxSockets = 256;

export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= documentClientOf(createDynamoDbClient());
  return documentClient;
}

/**
 * A DynamoDB client as the service uses it: retries with backoff, then throttling and server
 * errors surface as the service's `unavailable` (503 with Retry-After), in this one place.
 */
export function createDynamoDbClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  const agent = { keepAlive: true, maxSockets: dynamoDbMaxSockets };
  const client = tracer.captureAWSv3Client(
    new DynamoDBClient({
      retryMode: 'standard',
      maxAttempts: dynamoDbMaxAttempts,
      requestHandler: { httpAgent: agent, httpsAgent: agent },
      ...config,
    }),
  );
  // The initialize step wraps the retry strategy: it sees only what is left after the last attempt.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw unavailableIfTransient(error);
      }
    },
    { step: 'initialize', name: 'unavailableAfterRetries' },
  );
  return client;
}

/** Plain JavaScript values in and out; the document client shares the client's middleware. */
export function documentClientOf(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function s3(): S3Client {
  s3Client ??= tracer.captureAWSv3Client(new S3Client({}));
  return s3Client;
}

export function ecs(): ECSClient {
  ecsClient ??= tracer.captureAWSv3Client(new ECSClient({}));
  return ecsClient;
}

export function ecr(): ECRClient {
  ecrClient ??= tracer.captureAWSv3Client(new ECRClient({}));
  return ecrClient;
}

export function codeBuild(): CodeBuildClient {
  codeBuildClient ??= tracer.captureAWSv3Client(new CodeBuildClient({}));
  return codeBuildClient;
}

export function lambda(): LambdaClient {
  lambdaClient ??= tracer.captureAWSv3Client(new LambdaClient({}));
  return lambdaClient;
}

export function ssm(): SSMClient {
  ssmClient ??= tracer.captureAWSv3Client(new SSMClient({}));
  return ssmClient;
}

export function cloudWatchLogs(): CloudWatchLogsClient {
  logsClient ??= tracer.captureAWSv3Client(new CloudWatchLogsClient({}));
  return logsClient;
}

/**
 * The `@connections` API of a WebSocket API stage: `https://<api>.execute-api.<region>.amazonaws.com/<stage>`.
 * A fan-out posts to hundreds of connections: `maxSockets` kept-alive sockets let that many posts go
 * at once without a handshake each, and the middleware stack is resolved once, not per post.
 */
export function apiGatewayManagement(endpoint: string, maxSockets: number): ApiGatewayManagementApiClient {
  let client = managementClients.get(endpoint);
  if (!client) {
    const agent = { keepAlive: true, maxSockets };
    client = tracer.captureAWSv3Client(
      new ApiGatewayManagementApiClient({
        endpoint,
        cacheMiddleware: true,
        requestHandler: { httpAgent: agent, httpsAgent: agent },
      }),
    );
    managementClients.set(endpoint, client);
  }
  return client;
}
