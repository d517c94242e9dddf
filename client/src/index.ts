export * from './client.js';
export * from './errors.js';
export * from './log-stream.js';
export * from './messages.js';
export type * from './responses.js';
export type { components, operations, paths } from './generated/openapi.js';
