import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const localDataDir = '.local';
const secretFile = `${localDataDir}/jwt-secret`;

/**
 * The HS256 secret the local gateway verifies tokens with: PREVIEW_JWT_SECRET when set, else a
 * random one kept in `.local/` so `npm start` and `npm run token` agree across restarts.
 */
export function localJwtSecret(): string {
  const fromEnv = process.env.PREVIEW_JWT_SECRET?.trim();
  if (fromEnv) return fromEnv;
  if (existsSync(secretFile)) return readFileSync(secretFile, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(secretFile), { recursive: true, mode: 0o700 });
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  return secret;
}
