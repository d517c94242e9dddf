import type { components } from './generated/openapi.js';

/** Success answers by the names of the OpenAPI document's schemas. */
type Schemas = components['schemas'];

export type LogsPage = Schemas['LogsPage'];
export type ExtendResult = Schemas['ExtendResult'];
export type RotatedToken = Schemas['RotatedToken'];
export type AppEndpoints = Schemas['AppEndpoints'];
export type TestResponse = Schemas['TestResponse'];
export type PreviewConfig = Schemas['PreviewConfig'];

/** An exported log file: its bytes as the service sent them, and how it names them. */
export interface LogExport {
  readonly contentType: string;
  readonly filename: string | undefined;
  readonly body: Uint8Array;
}
