import { PreviewApiError } from '@preview-service/client';

/** What the page needs to open a preview's live stream: its URL and the preview token. */
export interface LiveAccess {
  readonly wsUrl: string;
  readonly previewToken: string;
}

const tokenKey = 'preview-console.token';
const accessKey = (generationId: string) => `preview-console.live.${generationId}`;

/** The pasted bearer token, kept in this browser's localStorage for the next visit. */
export const savedToken = (): string => localStorage.getItem(tokenKey) ?? '';

export function saveToken(token: string): void {
  if (token) localStorage.setItem(tokenKey, token);
  else localStorage.removeItem(tokenKey);
}

/** Preview tokens are shown once by the service: kept for this tab only, by generation. */
export function savedAccess(generationId: string): LiveAccess | undefined {
  const raw = sessionStorage.getItem(accessKey(generationId));
  return raw ? (JSON.parse(raw) as LiveAccess) : undefined;
}

export function saveAccess(generationId: string, access: LiveAccess | undefined): void {
  if (access) sessionStorage.setItem(accessKey(generationId), JSON.stringify(access));
  else sessionStorage.removeItem(accessKey(generationId));
}

/**
 * The local gateway serves each preview's stream at this path (docs/api.md, "Live stream"); the
 * launch answer names it, but a token rotation does not.
 */
export const localStreamUrl = (generationId: string): string =>
  `${location.origin.replace(/^http/, 'ws')}/api/generations/${encodeURIComponent(generationId)}/preview/logs`;

export function errorText(error: unknown): string {
  if (error instanceof PreviewApiError) return `${error.status} ${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
