import { crc32, deflateRawSync } from 'node:zlib';

/** 1980-01-01 00:00 in DOS format: a fixed time, so equal files give an equal archive. */
const dosTime = 0;
const dosDate = (1 << 5) | 1;
/** File names are UTF-8. */
const utf8Flag = 0x0800;
const deflate = 8;
const versionNeeded = 20;
/** Made by Unix, so the external attributes carry a regular file's mode (0644). */
const versionMadeBy = (3 << 8) | versionNeeded;
const regularFileMode = 0o100644;

/**
 * A zip archive of regular files, built in memory: the only archive format CodeBuild accepts as an
 * S3 source. Generations stay far below zip64's limits (see `generationLimits`).
 */
export function zipArchive(files: ReadonlyMap<string, Buffer>): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [path, content] of files) {
    const name = Buffer.from(path, 'utf8');
    const data = deflateRawSync(content);
    const common = { crc: crc32(content), compressed: data.length, size: content.length, name };

    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    writeCommon(header, 4, common);
    local.push(header, name, data);

    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(versionMadeBy, 4);
    writeCommon(entry, 6, common);
    // Comment length, disk number and internal attributes stay zero.
    entry.writeUInt32LE((regularFileMode << 16) >>> 0, 38);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);

    offset += header.length + name.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.size, 8);
  end.writeUInt16LE(files.size, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, directory, end]);
}

/** The fields a local header and a central directory entry share, in the same order. */
function writeCommon(
  buffer: Buffer,
  at: number,
  entry: { crc: number; compressed: number; size: number; name: Buffer },
): void {
  buffer.writeUInt16LE(versionNeeded, at);
  buffer.writeUInt16LE(utf8Flag, at + 2);
  buffer.writeUInt16LE(deflate, at + 4);
  buffer.writeUInt16LE(dosTime, at + 6);
  buffer.writeUInt16LE(dosDate, at + 8);
  buffer.writeUInt32LE(entry.crc, at + 10);
  buffer.writeUInt32LE(entry.compressed, at + 14);
  buffer.writeUInt32LE(entry.size, at + 18);
  buffer.writeUInt16LE(entry.name.length, at + 22);
  // Extra field length: none.
  buffer.writeUInt16LE(0, at + 24);
}
