import { describe, expect, it } from 'vitest';
import { zipArchive } from '#adapters/aws/zip-archive.js';
import { unzip, unzipEntries } from '../../support/unzip.js';

describe('zipArchive', () => {
  const files = new Map([
    ['Dockerfile', Buffer.from('FROM python:3.11-slim\n')],
    ['app/données.py', Buffer.from('print("é")\n'.repeat(200))],
    ['empty.txt', Buffer.alloc(0)],
  ]);

  it('holds every file, UTF-8 names and empty files included, as an independent reader reads it', async () => {
    expect(await unzip(zipArchive(files))).toEqual(files);
  });

  it('stores regular files readable by all (mode 0644)', async () => {
    const entries = await unzipEntries(zipArchive(files));
    expect([...entries.values()].map((entry) => entry.mode)).toEqual([0o100644, 0o100644, 0o100644]);
  });

  it('gives the same bytes for the same files', () => {
    expect(zipArchive(files).equals(zipArchive(new Map(files)))).toBe(true);
  });

  it('compresses', () => {
    const content = files.get('app/données.py')!;
    expect(zipArchive(files).length).toBeLessThan(content.length);
  });

  it('makes an empty archive of no files', async () => {
    expect(await unzip(zipArchive(new Map()))).toEqual(new Map());
  });

  it('is rejected by the reader when a byte of a file is changed', async () => {
    const archive = zipArchive(new Map([['a.txt', Buffer.from('a'.repeat(1000))]]));
    // The deflated data starts after the 30-byte local header and the 5-byte name.
    const at = 35 + 2;
    archive.writeUInt8(archive.readUInt8(at) ^ 0xff, at);
    await expect(unzip(archive)).rejects.toThrow();
  });
});
