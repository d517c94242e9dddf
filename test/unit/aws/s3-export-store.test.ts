import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ExportStore } from '#adapters/aws/s3-export-store.js';
import { exportFile, type ExportFormat } from '#core/log-export.js';

const now = new Date('2030-01-02T03:04:05Z');
const previewId = 'preview_0mwwx1ng4c34951cc68ff4c71';
const s3 = mockClient(S3Client);

function store(): S3ExportStore {
  const client = new S3Client({
    region: 'eu-west-1',
    credentials: {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
  });
  return new S3ExportStore(client, 'preview-exports', 'exports/', { now: () => now });
}

async function* pieces(...chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

/** What a request body held, whether the SDK was handed a buffer or a stream. */
async function bytesOf(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (typeof body === 'string') return Buffer.from(body);
  const parts: Buffer[] = [];
  for await (const part of body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

function expectPresigned(url: string, key: string): void {
  const parsed = new URL(url);
  expect(parsed.hostname).toBe('preview-exports.s3.eu-west-1.amazonaws.com');
  expect(decodeURIComponent(parsed.pathname.slice(1))).toBe(key);
  expect(parsed.searchParams.get('X-Amz-Expires')).toBe('3600');
  expect(parsed.searchParams.get('X-Amz-Date')).toBe('20300102T030405Z');
  expect(parsed.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
}

afterEach(() => s3.reset());

describe('S3ExportStore', () => {
  it.each<[ExportFormat, string, string]>([
    ['json', 'json', 'application/json'],
    ['csv', 'csv', 'text/csv; charset=utf-8'],
    ['gzip', 'json.gz', 'application/gzip'],
  ])(
    'puts a small %s export in one request, encrypted, and presigns it for an hour',
    async (format, ext, type) => {
      s3.on(PutObjectCommand).resolves({ ETag: '"etag"' });
      const file = exportFile('gen-1', format);
      const saved = await store().save(file, pieces(Buffer.from('ab'), Buffer.from('cd')), previewId);

      const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
      if (!put) throw new Error('nothing was put');
      const { Body, ...input } = put;
      expect(input).toEqual({
        Bucket: 'preview-exports',
        Key: expect.stringMatching(
          new RegExp(`^exports/${previewId}/[0-9a-f]{32}\\.${ext.replace('.', '\\.')}$`),
        ),
        ContentType: type,
        ContentDisposition: `attachment; filename="${file.filename}"`,
        CacheControl: 'no-store',
        ServerSideEncryption: 'AES256',
      });
      expect(input).not.toHaveProperty('ContentEncoding');
      expect((await bytesOf(Body)).toString()).toBe('abcd');
      expectPresigned(saved.url, String(input.Key));
      expect(saved).toMatchObject({ expiresAt: new Date('2030-01-02T04:04:05Z'), bytes: 4 });
    },
  );

  it('streams a large export as a multipart upload, part by part', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({
      ETag: `"part-${input.PartNumber}"`,
    }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const body = Buffer.alloc(11 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 1) body[i] = i % 251;
    const chunks = Array.from({ length: 11 }, (_, i) =>
      body.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024),
    );
    const file = exportFile('gen-1', 'gzip');
    const saved = await store().save(file, pieces(...chunks), previewId);

    const [create] = s3.commandCalls(CreateMultipartUploadCommand);
    const created = create?.args[0].input;
    expect(created).toMatchObject({
      Bucket: 'preview-exports',
      ContentType: 'application/gzip',
      ContentDisposition: `attachment; filename="${file.filename}"`,
      ServerSideEncryption: 'AES256',
    });
    expect(created).not.toHaveProperty('ContentEncoding');
    expect(created?.Key).toMatch(new RegExp(`^exports/${previewId}/[0-9a-f]{32}\\.json\\.gz$`));

    const parts = s3
      .commandCalls(UploadPartCommand)
      .map((call) => call.args[0].input)
      .sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    expect(parts.map((part) => [part.Key, part.UploadId, part.PartNumber])).toEqual([
      [created?.Key, 'upload-1', 1],
      [created?.Key, 'upload-1', 2],
      [created?.Key, 'upload-1', 3],
    ]);
    const uploaded = Buffer.concat(await Promise.all(parts.map((part) => bytesOf(part.Body))));
    expect(uploaded.equals(body)).toBe(true);

    const [complete] = s3.commandCalls(CompleteMultipartUploadCommand);
    expect(complete?.args[0].input).toMatchObject({
      Key: created?.Key,
      UploadId: 'upload-1',
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"part-1"' },
          { PartNumber: 2, ETag: '"part-2"' },
          { PartNumber: 3, ETag: '"part-3"' },
        ],
      },
    });
    expectPresigned(saved.url, String(created?.Key));
    expect(saved.bytes).toBe(body.length);
  });

  it('aborts the multipart upload when the export fails midway', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    s3.on(UploadPartCommand).resolves({ ETag: '"part"' });
    s3.on(AbortMultipartUploadCommand).resolves({});
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(6 * 1024 * 1024);
      throw new Error('log store went away');
    }
    await expect(store().save(exportFile('gen-1', 'json'), failing(), previewId)).rejects.toThrow(
      'log store went away',
    );
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      UploadId: 'upload-1',
    });
  });
});
