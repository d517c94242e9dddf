import type { CompareResponse } from '../api-schemas.js';
import { AppError } from '../errors.js';
import type { Generation } from '../generation.js';
import { isServing, isTerminal } from '../lifecycle.js';
import { totalRequests } from '../metrics.js';
import { diffOpenApi } from '../openapi-diff.js';
import { performanceChange } from '../performance-change.js';
import type { GenerationStore, MetricsStore, PreviewStore } from '../ports.js';
import type { Identity, PreviewRecord } from '../preview.js';
import type { PreviewProxy } from './preview-proxy.js';

interface Side {
  readonly id: string;
  readonly generation: Generation;
  readonly record: PreviewRecord | undefined;
}

const serving = (side: Side): side is Side & { readonly record: PreviewRecord } =>
  side.record !== undefined && isServing(side.record.status);

/**
 * Compares the caller's previews of two generations: their API contracts, read from the
 * OpenAPI documents the running apps serve, and the requests measured on each.
 */
export class VersionComparison {
  constructor(
    private readonly deps: {
      readonly previews: PreviewStore;
      readonly generations: GenerationStore;
      readonly proxy: PreviewProxy;
      readonly metrics: MetricsStore;
    },
  ) {}

  async compare(identity: Identity, generationId: string, otherVersionId: string): Promise<CompareResponse> {
    const sides = await Promise.all([this.side(identity, generationId), this.side(identity, otherVersionId)]);
    const [baseSide, otherSide] = sides;
    if (!serving(baseSide) || !serving(otherSide)) {
      const idle = sides.filter((side) => !serving(side));
      throw new AppError(
        'preview_not_running',
        `Comparing needs a running preview of both versions: ${idle.map(whatToDo).join('; ')}.`,
        { notServing: idle.map((side) => ({ generationId: side.id, status: side.record?.status ?? null })) },
      );
    }
    const [base, other] = await Promise.all([this.read(identity, baseSide), this.read(identity, otherSide)]);
    return {
      base: base.view,
      other: other.view,
      comparison: {
        ...diffOpenApi(base.document, other.document),
        performance: performanceChange(base.measured, other.measured),
      },
    };
  }

  private async side(identity: Identity, id: string): Promise<Side> {
    const source = await this.deps.generations.load(id);
    if (!source) throw new AppError('not_found', `Generation ${id} was not found.`);
    const record = await this.deps.previews.get(identity.userId, id);
    return { id, generation: source.generation, record };
  }

  /** The app's OpenAPI document (a read of our own, kept out of its metrics) and its measured requests. */
  private async read(identity: Identity, { id, generation, record }: Side & { record: PreviewRecord }) {
    const [document, buckets] = await Promise.all([
      this.deps.proxy.openApiDocument(identity, generation, { metered: false }),
      this.deps.metrics.requestBuckets(record.previewId),
    ]);
    const info = document.info as { version?: unknown } | undefined;
    return {
      document,
      measured: { label: `the preview of ${id}`, totals: totalRequests(buckets) },
      view: {
        generationId: id,
        version: generation.version ?? null,
        previewInstanceId: record.previewId,
        apiVersion: typeof info?.version === 'string' ? info.version : null,
      },
    };
  }
}

function whatToDo({ id, record }: Side): string {
  if (!record) return `${id} has no preview (launch it)`;
  const action =
    isTerminal(record.status) || record.status === 'stopping' ? 'launch it' : 'wait until it runs';
  return `the preview of ${id} is ${record.status} (${action})`;
}
