import { describe, expect, it, vi } from 'vitest';
import { LocalLaunchStarter } from '#local/local-launch-starter.js';

/** Launches that end when the test says so, recording which ran. */
class ControlledLaunches {
  readonly started: string[] = [];
  private readonly finishers = new Map<string, (error?: Error) => void>();

  readonly run = (previewId: string) =>
    new Promise<void>((resolve, reject) => {
      this.started.push(previewId);
      this.finishers.set(previewId, (error) => (error ? reject(error) : resolve()));
    });

  finish(previewId: string, error?: Error): Promise<void> {
    this.finishers.get(previewId)!(error);
    // The starter starts the next launch once the finished one has settled.
    return new Promise((resolve) => setImmediate(resolve));
  }
}

const previews = (...ids: string[]) => ids.map((previewId) => ({ previewId }));

describe('local launch starter', () => {
  it('runs at most its concurrency at once and starts the others in arrival order as launches end', async () => {
    const launches = new ControlledLaunches();
    const starter = new LocalLaunchStarter(2, Number.POSITIVE_INFINITY, launches.run);
    for (const preview of previews('a', 'b', 'c', 'd')) await starter.start(preview);
    expect(launches.started).toEqual(['a', 'b']);

    await launches.finish('b');
    expect(launches.started).toEqual(['a', 'b', 'c']);
    // A failed launch frees its place too (the launcher has recorded the failure on the preview).
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await launches.finish('a', new Error('engine went away'));
    expect(logged).toHaveBeenCalledWith('start-preview a failed:', new Error('engine went away'));
    logged.mockRestore();
    expect(launches.started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('queues a waiting preview once, and a running one again (a takeover, for the launcher to judge)', async () => {
    const launches = new ControlledLaunches();
    const starter = new LocalLaunchStarter(1, Number.POSITIVE_INFINITY, launches.run);
    await starter.start({ previewId: 'a' });
    await starter.start({ previewId: 'b' });
    // A sweep hands both over again: b still waits its turn; a runs, but its heartbeat looked stale.
    await starter.start({ previewId: 'b' });
    await starter.start({ previewId: 'a' });
    await launches.finish('a');
    await launches.finish('b');
    expect(launches.started).toEqual(['a', 'b', 'a']);
  });

  it('drains the launches running and drops those waiting, which a later start can take again', async () => {
    const launches = new ControlledLaunches();
    const starter = new LocalLaunchStarter(1, Number.POSITIVE_INFINITY, launches.run);
    for (const preview of previews('a', 'b')) await starter.start(preview);
    let drained = false;
    const drain = starter.drain().then(() => (drained = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);

    await launches.finish('a');
    await drain;
    expect(launches.started).toEqual(['a']);
    await starter.start({ previewId: 'b' });
    expect(launches.started).toEqual(['a', 'b']);
  });

  it('frees the place of a launch still running after the slot timeout, for the next one', async () => {
    vi.useFakeTimers();
    try {
      const launches = new ControlledLaunches();
      const starter = new LocalLaunchStarter(1, 60_000, launches.run);
      await starter.start({ previewId: 'hangs' });
      await starter.start({ previewId: 'next' });
      await vi.advanceTimersByTimeAsync(59_999);
      expect(launches.started).toEqual(['hangs']);
      await vi.advanceTimersByTimeAsync(1);
      expect(launches.started).toEqual(['hangs', 'next']);
      // The late end of the hung launch frees no second place.
      await starter.start({ previewId: 'third' });
      void launches.finish('hangs');
      await vi.advanceTimersByTimeAsync(0);
      expect(launches.started).toEqual(['hangs', 'next']);
    } finally {
      vi.useRealTimers();
    }
  });
});
