import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AppError } from '#core/errors.js';
import type { GenerationSource } from '#core/generation.js';
import { sourceHash, type BuiltImage, type ImageBuilder } from '#core/task-runner.js';

/**
 * The "image" of process mode: the generation's files in a folder `<directory>/<content hash>/`,
 * whose path is the image reference (the process runner's working directory). Nothing is
 * installed: the Dockerfile is not run, the host's interpreter and packages serve the app.
 */
export class ProcessImageBuilder implements ImageBuilder {
  private readonly directory: string;

  constructor(directory: string) {
    this.directory = resolve(directory);
  }

  async ensureImage(source: GenerationSource, onBuildLog: (line: string) => void): Promise<BuiltImage> {
    const imageRef = join(this.directory, sourceHash(source.files));
    if (await exists(imageRef)) return { imageRef, cached: true };

    await mkdir(this.directory, { recursive: true });
    // Written aside and renamed into place: a folder under its hash is always complete.
    const staging = await mkdtemp(`${imageRef}.partial-`);
    try {
      for (const [path, content] of source.files) {
        const target = inside(staging, path);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content);
      }
      // mkdtemp's 0700 would keep out a runner that starts the app as another (unprivileged) user.
      await chmod(staging, 0o755);
      await rename(staging, imageRef);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      // A concurrent launch of the same generation got there first: its folder is as good.
      if (await exists(imageRef)) return { imageRef, cached: true };
      throw error;
    }
    onBuildLog(
      `Copied ${source.files.size} files to ${imageRef} (process mode: no image, nothing installed).`,
    );
    return { imageRef, cached: false };
  }
}

/** Where a generation's file goes; refused when its path would leave the folder. */
function inside(folder: string, path: string): string {
  const target = resolve(folder, path);
  const fromFolder = relative(folder, target);
  if (
    fromFolder === '' ||
    fromFolder === '..' ||
    fromFolder.startsWith(`..${sep}`) ||
    isAbsolute(fromFolder)
  ) {
    throw new AppError('bad_request', `A generation file's path leaves the generation: ${path}`);
  }
  return target;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
