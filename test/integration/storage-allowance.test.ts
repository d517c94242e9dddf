import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryGenerationStore } from '#adapters/local/directory-generation-store.js';
import { DockerImageBuilder } from '#adapters/local/docker-image-builder.js';
import { DockerTaskRunner } from '#adapters/local/docker-task-runner.js';
import { loadConfig } from '#core/config.js';
import { newDatabasePassword, newPreviewId } from '#core/ids.js';
import type { LiveNotifier } from '#core/log-ports.js';
import type { ResourceSample } from '#core/metrics.js';
import type { MetricsStore, PreviewStore } from '#core/ports.js';
import type { PreviewRecord } from '#core/preview.js';
import { ResourceSampler } from '#core/services/resource-sampler.js';
import { buildTaskDefinition } from '#core/task-definition.js';
import { docker, dockerMissing, leftovers, skipWithoutDocker } from '../support/docker.js';

/**
 * The storage allowance on a real task: the Docker runner measures what the app writes to `/tmp`, and
 * the sampler warns, then stops the preview, against a tiny allowance set the way an operator would.
 */

// About 10.7 MB: the tier override an operator would set, read by the one config loader.
const tiers = loadConfig({ PREVIEW_RESOURCE_TIER_FREE: '{"storageGb": 0.01}' }).tiers;
const runner = new DockerTaskRunner(docker, { stepTimeoutMs: 60_000 });
const previewId = newPreviewId(new Date());

const samples: ResourceSample[] = [];
const warnings: { percent: number; usedBytes: number }[] = [];
const stops: string[] = [];
let record: PreviewRecord;

const previews = { listLive: async () => [record] } as unknown as PreviewStore;
const metrics = {
  recordResources: async (_id: string, sample: ResourceSample) => {
    samples.push(sample);
  },
} as unknown as MetricsStore;
const notifier = {
  resourcesSampled: async () => {},
  storageFilling: async (_id: string, usage: { percent: number; usedBytes: number }) => {
    warnings.push({ percent: usage.percent, usedBytes: usage.usedBytes });
  },
} as unknown as LiveNotifier;
const sampler = new ResourceSampler({
  previews,
  runner,
  metrics,
  clock: { now: () => new Date() },
  notifier,
  stopper: {
    stopForStorage: async (_record, message) => {
      stops.push(message);
      await runner.stop(previewId);
    },
  },
});

/** What the app writes to its scratch volume, as the app's own user. */
async function fillScratch(mib: number): Promise<void> {
  const [app] = await docker.listContainers({
    filters: { label: [`preview.id=${previewId}`, 'preview.container=app'] },
  });
  if (!app) throw new Error('no app container');
  const exec = await docker.getContainer(app.Id).exec({
    Cmd: ['dd', 'if=/dev/urandom', 'of=/tmp/fill', 'bs=1M', `count=${mib}`, 'conv=fsync'],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({});
  stream.resume();
  await new Promise((resolve) => stream.on('end', resolve));
  expect((await exec.inspect()).ExitCode).toBe(0);
}

describe.skipIf(skipWithoutDocker)('storage allowance on Docker', () => {
  beforeAll(async () => {
    if (dockerMissing) throw new Error(dockerMissing);
    const source = await new DirectoryGenerationStore('examples/generations').load('hello-api');
    if (!source) throw new Error('example generation hello-api is missing');
    const { imageRef } = await new DockerImageBuilder(docker).ensureImage(source, () => {});
    const tier = tiers.free;
    await runner.run(
      buildTaskDefinition({
        previewId,
        generation: source.generation,
        tier,
        appImage: imageRef,
        databasePassword: newDatabasePassword(),
      }),
    );
    record = {
      previewId,
      status: 'healthy',
      tier: 'free',
      resources: { memoryMb: tier.memory, cpu: tier.cpu, storageGb: tier.storageGb },
    } as PreviewRecord;
  }, 180_000);
  afterAll(async () => {
    await runner.stop(previewId);
    await runner.close();
    expect(await leftovers(previewId)).toEqual([]);
  });

  it('measures /tmp, warns past 90% once, and stops the preview at 100%', { timeout: 120_000 }, async () => {
    await fillScratch(8);
    // A round whose stats the engine does not answer (a loaded machine) is skipped by the sampler.
    for (let round = 0; round < 10 && samples.at(-1)?.storageUsedBytes === undefined; round += 1) {
      await sampler.sampleAll();
    }
    expect(samples.at(-1)?.storageUsedBytes).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    expect(warnings).toEqual([]);

    await fillScratch(10);
    await sampler.sampleAll();
    await sampler.sampleAll();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.percent).toBeGreaterThanOrEqual(90);
    expect(stops).toEqual([]);

    await fillScratch(12);
    await sampler.sampleAll();
    expect(stops).toEqual([
      expect.stringMatching(/^its storage is full: 12(\.\d)?MB used of the 0\.01GB the free tier allows$/),
    ]);
    expect(await runner.describe(previewId)).toBeUndefined();
  });
});
