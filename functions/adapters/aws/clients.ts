import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

/**
 * The AWS clients, created once per process and shared. Endpoints follow the standard
 * `AWS_ENDPOINT_URL_*` variables, which is how the local runtime points them at its emulators.
 */
let documentClient: DynamoDBDocumentClient | undefined;
let s3Client: S3Client | undefined;
let ecsClient: ECSClient | undefined;
let ecrClient: ECRClient | undefined;
let codeBuildClient: CodeBuildClient | undefined;

export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

export function s3(): S3Client {
  s3Client ??= new S3Client({});
  return s3Client;
}

export function ecs(): ECSClient {
  ecsClient ??= new ECSClient({});
  return ecsClient;
}

export function ecr(): ECRClient {
  ecrClient ??= new ECRClient({});
  return ecrClient;
}

export function codeBuild(): CodeBuildClient {
  codeBuildClient ??= new CodeBuildClient({});
  return codeBuildClient;
}
