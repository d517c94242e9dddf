import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LocalLogPipeline } from '#local/log-pipeline.js';

const decoded = (event: CloudWatchLogsEvent) =>
  JSON.parse(
    gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8'),
  ) as CloudWatchLogsDecodedData;

describe('LocalLogPipeline', () => {
  it('runs jobs queued in a row together, and a line between two jobs after the first and before the second', async () => {
    const happened: string[] = [];
    const pipeline = new LocalLogPipeline({
      logGroup: '/preview/local',
      deliver: async (event) => {
        happened.push(...decoded(event).logEvents.map((e) => `line ${e.message}`));
      },
    });
    let running = 0;
    let most = 0;
    const job = (name: string) => async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      happened.push(name);
      running -= 1;
    };

    const jobs = [pipeline.enqueue('p1', job('a')), pipeline.enqueue('p1', job('b'))];
    pipeline.write('p1', 'preview/app/task-1', 'x');
    jobs.push(pipeline.enqueue('p1', job('c')));
    await Promise.all(jobs);
    await pipeline.close();

    expect(most).toBe(2);
    expect(happened.slice(0, 2).sort()).toEqual(['a', 'b']);
    expect(happened.slice(2)).toEqual(['line x', 'c']);
  });
});
