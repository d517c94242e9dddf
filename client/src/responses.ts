import type { LogLine } from './messages.js';

/**
 * Success answers the OpenAPI document does not describe yet, as docs/api.md does. Where the
 * generated types have a schema for an answer, that schema wins (see `Documented`).
 */

export interface LogsPage {
  readonly previewInstanceId: string;
  readonly logs: readonly LogLine[];
  /** Present when more lines match: pass it back to read the next page. */
  readonly nextToken?: string;
}

export interface ExtendResult {
  readonly status: 'extended';
  readonly newExpiresAt: string;
  readonly extensionsRemaining: number;
  readonly maxExtensions: number;
}

export interface RotatedToken {
  readonly previewInstanceId: string;
  readonly previewToken: string;
}

export interface AppEndpoints {
  readonly generationId: string;
  readonly source: string;
  readonly endpoints: readonly {
    readonly method: string;
    readonly path: string;
    readonly description?: string;
    readonly operationId?: string;
  }[];
}

export interface TestResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly durationMs: number;
}

export type PreviewConfig = Readonly<Record<string, unknown>>;

/** An exported log file: its bytes as the service sent them, and how it names them. */
export interface LogExport {
  readonly contentType: string;
  readonly filename: string | undefined;
  readonly body: Uint8Array;
}

/** The generated type of an answer, or `Fallback` while the document gives it no schema. */
export type Documented<Generated, Fallback> = [Generated] extends [never]
  ? Fallback
  : unknown extends Generated
    ? Fallback
    : [Generated] extends [undefined]
      ? Fallback
      : Generated;
