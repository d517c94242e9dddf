import { describe, expect, it } from 'vitest';
import { LocalLogSources } from '#local/local-log-sources.js';

describe('LocalLogSources', () => {
  it('keeps every secret the containers of a task registered, whichever registered last', async () => {
    const sources = new LocalLogSources();
    sources.register('task-1', { previewId: 'preview_1', secrets: ['database-password'] });
    // The loopback bridge has no secrets of its own.
    sources.register('task-1', { previewId: 'preview_1', secrets: [] });
    sources.register('task-1', { previewId: 'preview_1', secrets: ['database-password'] });
    expect(await sources.taskOrigin('task-1')).toEqual({
      previewId: 'preview_1',
      secrets: ['database-password'],
    });
  });

  it('starts afresh when a task id names another preview', async () => {
    const sources = new LocalLogSources();
    sources.register('task-1', { previewId: 'preview_1', secrets: ['old'] });
    sources.register('task-1', { previewId: 'preview_2', secrets: ['new'] });
    expect(await sources.taskOrigin('task-1')).toEqual({ previewId: 'preview_2', secrets: ['new'] });
  });
});
