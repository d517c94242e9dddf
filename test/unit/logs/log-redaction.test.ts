import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logEntry } from '../../../functions/core/log-entry.js';
import { redactSecrets, redactValues, secretsOf } from '../../../functions/core/log-redaction.js';

describe('secret redaction', () => {
  it('hides passwords in connection URLs, keeping the user and host', () => {
    expect(redactSecrets('connecting to postgresql://preview:s3cr3t-Pa55@localhost:5432/app')).toBe(
      'connecting to postgresql://preview:***@localhost:5432/app',
    );
    expect(redactSecrets('mongodb+srv://root:hunter22@cluster0.example.net/db')).toBe(
      'mongodb+srv://root:***@cluster0.example.net/db',
    );
    expect(redactSecrets('see https://example.com/docs and user@example.com')).toBe(
      'see https://example.com/docs and user@example.com',
    );
  });

  it('hides Authorization values and bearer tokens', () => {
    expect(redactSecrets('Authorization: Bearer abc.def-ghi_123456')).toBe('Authorization: Bearer ***');
    expect(redactSecrets('"authorization": "Basic dXNlcjpwYXNzd29yZA=="')).toBe(
      '"authorization": "Basic ***"',
    );
    expect(redactSecrets('authorization=Token 1234567890')).toBe('authorization=Token ***');
    expect(redactSecrets('Authorization: abc123')).toBe('Authorization: ***');
    expect(redactSecrets('calling with bearer 0123456789abcdef')).toBe('calling with bearer ***');
    expect(redactSecrets('jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl seen')).toBe('jwt *** seen');
  });

  it('hides AWS access key ids', () => {
    expect(redactSecrets('key AKIAIOSFODNN7EXAMPLE used')).toBe('key *** used');
    expect(redactSecrets('ASIAY34FZKBOKMUTVV7A')).toBe('***');
  });

  it('hides password=, secret=, token= and similar pairs, in text, query strings and JSON', () => {
    expect(redactSecrets('login password=hunter2 user=bob')).toBe('login password=*** user=bob');
    expect(redactSecrets('DB_PASSWORD=hunter2')).toBe('DB_PASSWORD=***');
    expect(redactSecrets('GET /reset?token=abc123&next=/home')).toBe('GET /reset?token=***&next=/home');
    expect(redactSecrets('client_secret: xyz789')).toBe('client_secret: ***');
    expect(redactSecrets('{"password": "with spaces and \\"quotes\\"", "user": "bob"}')).toBe(
      '{"password": "***", "user": "bob"}',
    );
    expect(redactSecrets('{"api_key": 12345, "n": 1}')).toBe('{"api_key": "***", "n": 1}');
    expect(redactSecrets("secret='abc'")).toBe("secret='***'");
  });

  it("hides the preview's own secrets wherever they appear, URL-encoded too", () => {
    const password = 'Zx9-q_LmN0pQrStUvWxYz12';
    expect(redactSecrets(`the database password is ${password}!`, [password])).toBe(
      'the database password is ***!',
    );
    expect(redactSecrets(`p=${encodeURIComponent('a/b+c=d?e')}`, ['a/b+c=d?e'])).toBe('p=***');
    // Short values would blank ordinary words out.
    expect(redactSecrets('a bc', ['bc'])).toBe('a bc');
  });

  it('leaves ordinary lines alone and is idempotent', () => {
    const lines = ['GET /api/users completed in 45ms', 'tokens: 5 used', 'max_tokens=5', 'basic setup done'];
    for (const line of lines) expect(redactSecrets(line)).toBe(line);
    const once = redactSecrets(
      'password=x postgresql://u:p@h Authorization: Bearer abcdefghij AKIAIOSFODNN7EXAMPLE',
    );
    expect(redactSecrets(once)).toBe(once);
  });

  it('hides values under secret names in parsed metadata, at any depth', () => {
    expect(
      redactValues({
        headers: { Authorization: 'x', 'x-api-key': 'k' },
        password: 42,
        list: ['password=p'],
        n: 1,
      }),
    ).toEqual({
      headers: { Authorization: '***', 'x-api-key': '***' },
      password: '***',
      list: ['password=***'],
      n: 1,
    });
  });

  it('never lets a known secret through, whatever surrounds it', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 6, maxLength: 40 }).filter((s) => s.trim().length >= 6 && !s.includes('*')),
        fc.string(),
        fc.string(),
        (secret, before, after) => {
          const line = logEntry(
            { id: '1', timestamp: 0, message: `${before}${secret}${after}` },
            { container: 'app', secrets: [secret] },
          );
          expect(JSON.stringify(line ?? '')).not.toContain(JSON.stringify(secret).slice(1, -1));
        },
      ),
    );
  });

  it("finds a task's secrets in its environment", () => {
    expect(
      secretsOf({
        DATABASE_URL: 'postgresql://preview:p%40ss-word-1@127.0.0.1:5432/app',
        POSTGRES_PASSWORD: 'p@ss-word-1',
        APP_ENV: 'preview',
        API_TOKEN: 't0k3n-value',
      }).sort(),
    ).toEqual(['p@ss-word-1', 't0k3n-value']);
  });
});
