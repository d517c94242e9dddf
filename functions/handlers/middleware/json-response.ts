import { isTextContent } from '#core/app-request.js';
import type { APIGatewayProxyResult } from 'aws-lambda';

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

export function rawResponse(
  statusCode: number,
  body: Buffer,
  headers: Record<string, string>,
): APIGatewayProxyResult {
  const text = isTextContent(headers['content-type']);
  return { statusCode, headers, body: body.toString(text ? 'utf8' : 'base64'), isBase64Encoded: !text };
}
