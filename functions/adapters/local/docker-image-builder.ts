import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import type { GenerationSource } from '#core/generation.js';
import { sourceHash, taskFailed, type BuiltImage, type ImageBuilder } from '#core/task-runner.js';

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

  imageRefOf(source: GenerationSource): string {
    return `${repository}:${sourceHash(source.files)}`;
  }

  async ensureImage(source: GenerationSource, onBuildLog: (line: string) => void): Promise<BuiltImage> {
    const imageRef = this.imageRefOf(source);
    if (await this.exists(imageRef)) return { imageRef, cached: true };

    const output = await this.docker
      .buildImage(buildContext(source.files), {
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

/**
 * The build context: the generation's files as a tar stream (long paths in PAX headers), with a
 * fixed mode and mtime so that equal content gives an equal context.
 */
function buildContext(files: ReadonlyMap<string, Buffer>): Readable {
  const pack = tar.pack();
  for (const [name, content] of files) {
    pack.entry({ name, size: content.length, mode: 0o644, mtime: new Date(0) }, content);
  }
  pack.finalize();
  // tar-stream's streams are streamx streams: iterated into the Node stream Docker's client pipes.
  return Readable.from(pack);
}
