import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { AppError } from '../../core/errors.js';
import type { GenerationSource } from '../../core/generation.js';
import { sourceHash, taskFailed, type BuiltImage, type ImageBuilder } from '../../core/task-runner.js';

const repository = 'preview-app';
const keptLines = 20;
/** A generated Dockerfile must not take the machine down while it builds. */
const buildMemoryBytes = 2 * 1024 ** 3;

interface BuildMessage {
  stream?: string;
  error?: string;
}

/** Builds generation images on the local Docker engine, tagged `preview-app:<content hash>`. */
export class DockerImageBuilder implements ImageBuilder {
  constructor(private readonly docker: Docker) {}

  async ensureImage(source: GenerationSource, onBuildLog: (line: string) => void): Promise<BuiltImage> {
    const imageRef = `${repository}:${sourceHash(source.files)}`;
    if (await this.exists(imageRef)) return { imageRef, cached: true };

    const output = await this.docker
      .buildImage(Readable.from([tarArchive(source.files)]), {
        t: imageRef,
        dockerfile: source.generation.dockerfile,
        labels: { 'preview.managed': 'true', 'preview.generation': source.generation.id },
        // Nothing to download from, and nothing a generated build should reach.
        networkmode: 'none',
        forcerm: true,
        memory: buildMemoryBytes,
        memswap: buildMemoryBytes,
      })
      .catch((error: Error) => {
        // The engine refuses some contexts outright, e.g. a missing Dockerfile.
        throw taskFailed({ step: 'build', reason: 'build_error', lastLines: [error.message] });
      });
    const lastLines: string[] = [];
    let error: string | undefined;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        output,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (message: BuildMessage) => {
          error ??= message.error;
          for (const line of (message.stream ?? message.error ?? '').split('\n')) {
            if (line.trim() === '') continue;
            onBuildLog(line);
            lastLines.push(line);
            if (lastLines.length > keptLines) lastLines.shift();
          }
        },
      );
    });
    if (error !== undefined) {
      throw taskFailed({ step: 'build', reason: 'build_error', exitCode: exitCodeOf(error), lastLines });
    }
    return { imageRef, cached: false };
  }

  private async exists(imageRef: string): Promise<boolean> {
    try {
      await this.docker.getImage(imageRef).inspect();
      return true;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return false;
      throw error;
    }
  }
}

/** "The command '/bin/sh -c …' returned a non-zero code: 1" → 1. */
function exitCodeOf(error: string): number | undefined {
  const match = /non-zero code: (\d+)/.exec(error);
  return match ? Number(match[1]) : undefined;
}

/** A ustar archive of regular files: all a build context needs, built in memory. */
function tarArchive(files: ReadonlyMap<string, Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, content] of files) {
    blocks.push(tarHeader(path, content.length), content, Buffer.alloc(padding(content.length)));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function tarHeader(path: string, size: number): Buffer {
  const { name, prefix } = splitPath(path);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write('0000644\0', 100); // mode
  header.write('0000000\0', 108); // uid
  header.write('0000000\0', 116); // gid
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136); // mtime: fixed, so equal content gives an equal context
  header.write('        ', 148); // checksum placeholder: spaces while summing
  header.write('0', 156); // regular file
  header.write('ustar\0' + '00', 257);
  header.write(prefix, 345, 155);
  const checksum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}

/** ustar keeps names up to 100 bytes, plus a 155-byte directory prefix. */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
    const prefix = path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new AppError('bad_request', `A generation file's path is too long for a build context: ${path}`);
}

function padding(size: number): number {
  return (512 - (size % 512)) % 512;
}
