import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { AppError } from '#core/errors.js';
import { generationLimits, parseGenerationSource, type GenerationSource } from '#core/generation.js';
import type { GenerationStore } from '#core/ports.js';

/** Generations as folders `<dir>/<generationId>/` on the local disk. */
export class DirectoryGenerationStore implements GenerationStore {
  constructor(private readonly directory: string) {}

  async load(generationId: string): Promise<GenerationSource | undefined> {
    const root = join(this.directory, generationId);
    const info = await lstat(root).catch(() => undefined);
    if (!info?.isDirectory()) return undefined;
    const files = new Map<string, Buffer>();
    let totalBytes = 0;
    const walk = async (folder: string): Promise<void> => {
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        const path = join(folder, entry.name);
        // Symbolic links could point outside the generation: they are not part of it.
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile()) {
          const content = await readFile(path);
          totalBytes += content.length;
          if (files.size >= generationLimits.maxFiles || totalBytes > generationLimits.maxTotalBytes) {
            throw new AppError(
              'payload_too_large',
              `Generation ${generationId} is larger than a preview allows.`,
            );
          }
          files.set(relative(root, path).split(sep).join('/'), content);
        }
      }
    };
    await walk(root);
    return parseGenerationSource(generationId, files);
  }
}
