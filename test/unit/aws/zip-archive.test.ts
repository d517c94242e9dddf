import { describe, expect, it } from 'vitest';
import { zipArchive } from '../../../functions/adapters/aws/zip-archive.js';
import { unzip } from './unzip.js';

describe('zipArchive', () => {
  const files = new Map([
    ['Dockerfile', Buffer.from('FROM python:3.11-slim\n')],
    ['app/données.py', Buffer.from('print("é")\n'.repeat(200))],
    ['empty.txt', Buffer.alloc(0)],
  ]);

  it('holds every file, UTF-8 names and empty files included', () => {
    expect(unzip(zipArchive(files))).toEqual(files);
  });

  it('gives the same bytes for the same files', () => {
    expect(zipArchive(files).equals(zipArchive(new Map(files)))).toBe(true);
  });

  it('compresses', () => {
    const content = files.get('app/données.py')!;
    expect(zipArchive(files).length).toBeLessThan(content.length);
  });

  it('makes an empty archive of no files', () => {
    expect(unzip(zipArchive(new Map()))).toEqual(new Map());
  });
});
