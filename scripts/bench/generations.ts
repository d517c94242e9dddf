import { randomUUID } from 'node:crypto';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './docker.js';

/**
 * The bench's own generations folder (PREVIEW_GENERATIONS_DIR): copies of the examples, plus
 * copies made unique per cold run so that their image is not in the engine yet.
 */
export class BenchGenerations {
  private constructor(readonly directory: string) {}

  static async create(exampleIds: readonly string[]): Promise<BenchGenerations> {
    const directory = await mkdtemp(join(tmpdir(), 'preview-bench-'));
    for (const id of exampleIds) {
      await cp(join(repoRoot, 'examples', 'generations', id), join(directory, id), { recursive: true });
    }
    return new BenchGenerations(directory);
  }

  /** `<baseId>-cold-<n>`: the base generation with a comment nobody has built before. */
  async coldCopy(baseId: string, n: number): Promise<string> {
    const id = `${baseId}-cold-${n}`;
    const target = join(this.directory, id);
    await cp(join(this.directory, baseId), target, { recursive: true });
    await appendFile(join(target, 'app', 'main.py'), `\n# bench nonce ${randomUUID()}\n`);
    const generationFile = join(target, 'generation.json');
    const generation = JSON.parse(await readFile(generationFile, 'utf8')) as Record<string, unknown>;
    await writeFile(generationFile, `${JSON.stringify({ ...generation, id }, null, 2)}\n`);
    return id;
  }

  async remove(): Promise<void> {
    await rm(this.directory, { recursive: true, force: true });
  }
}
