import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';

/** A file of an archive as a zip reader sees it. */
export interface ZippedFile {
  readonly content: Buffer;
  /** The Unix mode in the entry's external attributes (file type and permissions). */
  readonly mode: number;
}

/**
 * Reads a zip archive with yauzl, an independent reader: strict file names, sizes checked against
 * the headers, and each entry's CRC-32 (which yauzl leaves to its caller) checked against its content.
 */
export async function unzipEntries(archive: Buffer): Promise<Map<string, ZippedFile>> {
  const zip = await new Promise<ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(
      archive,
      { lazyEntries: true, strictFileNames: true, validateEntrySizes: true },
      (error, opened) => (error ? reject(error) : resolve(opened)),
    ),
  );
  const files = new Map<string, ZippedFile>();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: Entry) => {
      zip.openReadStream(entry, async (error, stream) => {
        if (error) return reject(error);
        try {
          const chunks: Buffer[] = [];
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          const content = Buffer.concat(chunks);
          if (crc32(content) !== entry.crc32) throw new Error(`bad CRC-32 for ${entry.fileName}`);
          files.set(entry.fileName, { content, mode: entry.externalFileAttributes >>> 16 });
          zip.readEntry();
        } catch (readError) {
          reject(readError as Error);
        }
      });
    });
    zip.readEntry();
  });
  return files;
}

/** The files of a zip archive: path → content. */
export async function unzip(archive: Buffer): Promise<Map<string, Buffer>> {
  const entries = await unzipEntries(archive);
  return new Map([...entries].map(([path, { content }]) => [path, content]));
}
