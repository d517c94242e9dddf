import {
  CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchLogStore, searchPattern } from '#adapters/aws/cloudwatch-log-store.js';
import { EcsLogSources } from '#adapters/aws/ecs-log-sources.js';
import type { LogEntry } from '#core/log-entry.js';
import type { RedactionLists } from '#core/log-ports.js';
import { logFilter } from '#core/log-filter.js';

const previewId = 'preview_0mjv1k2a83f9c2e1d4b5a6f70';
const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/previews/5b6c2f0e7a3d4e1f9a8b7c6d5e4f3a2b';
const taskId = '5b6c2f0e7a3d4e1f9a8b7c6d5e4f3a2b';
const logGroup = '/preview/prod';
const password = 'pa55-word_xYz';

const logs = mockClient(CloudWatchLogsClient);
const ecs = mockClient(ECSClient);
/** The preview's redaction list as launch kept it (the DynamoDB store is tested against dynalite). */
const redactions: RedactionLists = {
  add: () => Promise.reject(new Error('the log path never adds')),
  secrets: (id) => Promise.resolve(id === previewId ? [password] : []),
};
const sources = () => new EcsLogSources(new ECSClient({}), 'previews', redactions);
const store = () => new CloudWatchLogStore(new CloudWatchLogsClient({}), logGroup, sources());

async function collect(entries: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const all: LogEntry[] = [];
  for await (const entry of entries) all.push(entry);
  return all;
}

beforeEach(() => {
  logs.reset();
  ecs.reset();
  ecs
    .on(ListTasksCommand, { desiredStatus: 'RUNNING' })
    .resolves({ taskArns: [taskArn] })
    .on(ListTasksCommand, { desiredStatus: 'STOPPED' })
    .resolves({ taskArns: [] })
    .on(DescribeTasksCommand)
    .resolves({
      tasks: [{ taskArn, startedBy: previewId }],
    });
  // Streams that exist: the app's and the database's; no build, migrate or seed stream.
  logs.on(DescribeLogStreamsCommand).callsFake((input: { logStreamNamePrefix: string }) => ({
    logStreams: [`preview/app/${taskId}`, `preview/database/${taskId}`]
      .filter((name) => name.startsWith(input.logStreamNamePrefix))
      .map((logStreamName) => ({ logStreamName })),
  }));
});

describe('EcsLogSources', () => {
  it('maps a task to the preview that started it, with its redaction list, asking ECS once', async () => {
    const resolver = sources();
    expect(await resolver.taskOrigin(taskId)).toEqual({ previewId, secrets: [password] });
    expect(await resolver.taskOrigin(taskId)).toEqual({ previewId, secrets: [password] });
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'previews', tasks: [taskId] },
    ]);
  });

  it('lists the recorded task and those ECS still knows', async () => {
    expect(
      await sources().taskIds({ previewId, taskId: 'arn:aws:ecs:eu-west-1:1:task/previews/old' }),
    ).toEqual(['old', taskId]);
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'previews', startedBy: previewId, desiredStatus: 'RUNNING' },
      { cluster: 'previews', startedBy: previewId, desiredStatus: 'STOPPED' },
    ]);
  });
});

describe('CloudWatchLogStore', () => {
  it("reads the preview's existing streams with FilterLogEvents, page by page, parsed and redacted", async () => {
    const pages = [
      {
        events: [
          {
            logStreamName: `preview/app/${taskId}`,
            eventId: '36863412299617384427360592543586283421440000000000000000',
            timestamp: 1760962815000,
            message: `{"level": "ERROR", "message": "db error", "metadata": {"url": "postgresql://preview:${password}@localhost/x"}}`,
          },
        ],
        nextToken: 'page-2',
      },
      {
        events: [
          {
            logStreamName: `preview/database/${taskId}`,
            eventId: '36863412317057197099280892543586283421440000000000000000',
            timestamp: 1760962815100,
            message: '2025-10-20 12:20:15.100 UTC [9] ERROR:  password authentication failed',
          },
        ],
      },
    ];
    const asked: Record<string, unknown>[] = [];
    logs.on(FilterLogEventsCommand).callsFake((input: Record<string, unknown>) => {
      // A copy: the paginator passes one input object from page to page, changing its token.
      asked.push({ ...input });
      return pages.shift();
    });

    const entries = await collect(
      store().entries({ previewId, taskId: taskArn }, logFilter({ level: 'ERROR', search: 'error' }), {
        start: new Date(1760962800000),
      }),
    );

    expect(entries).toEqual([
      {
        timestamp: '2025-10-20T12:20:15.000Z',
        level: 'ERROR',
        source: 'error',
        message: 'db error',
        metadata: { url: 'postgresql://preview:***@localhost/x' },
        cursor: '1760962815000-36863412299617384427360592543586283421440000000000000000',
      },
      {
        timestamp: '2025-10-20T12:20:15.100Z',
        level: 'ERROR',
        source: 'database',
        message: '2025-10-20 12:20:15.100 UTC [9] ERROR:  password authentication failed',
        metadata: {},
        cursor: '1760962815100-36863412317057197099280892543586283421440000000000000000',
      },
    ]);
    expect(asked).toEqual([
      {
        logGroupName: logGroup,
        logStreamNames: [`preview/database/${taskId}`, `preview/app/${taskId}`],
        startTime: 1760962800000,
        filterPattern: '%[Ee][Rr][Rr][Oo][Rr]%',
        nextToken: undefined,
      },
      {
        logGroupName: logGroup,
        logStreamNames: [`preview/database/${taskId}`, `preview/app/${taskId}`],
        startTime: 1760962800000,
        filterPattern: '%[Ee][Rr][Rr][Oo][Rr]%',
        nextToken: 'page-2',
      },
    ]);
  });

  it('keeps redacting once ECS has forgotten the task: the list outlives it', async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: [] }).on(DescribeTasksCommand).resolves({ tasks: [] });
    logs.on(FilterLogEventsCommand).resolves({
      events: [
        {
          logStreamName: `preview/app/${taskId}`,
          eventId: '1',
          timestamp: 5000,
          message: `connecting with ${password} and ${encodeURIComponent(password)}`,
        },
      ],
    });
    const entries = await collect(store().entries({ previewId, taskId: taskArn }, logFilter({}), {}));
    expect(entries.map((e) => e.message)).toEqual(['connecting with *** and ***']);
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  it('resumes after a cursor from its time, leaving out that line and those before', async () => {
    logs.on(FilterLogEventsCommand).resolves({
      events: [1, 2, 3].map((n) => ({
        logStreamName: `preview/app/${taskId}`,
        eventId: String(n),
        timestamp: 5000,
        message: `line ${n}`,
      })),
    });
    const entries = await collect(store().entries({ previewId }, logFilter({}), { after: '5000-2' }));
    expect(entries.map((e) => e.message)).toEqual(['line 3']);
    expect(logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input.startTime).toBe(5000);
  });

  it('finds nothing, without asking, for a preview whose streams do not exist', async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    expect(await collect(store().entries({ previewId }, logFilter({}), {}))).toEqual([]);
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(0);
  });

  it('takes the last lines from a window that widens until it has enough', async () => {
    let calls = 0;
    logs.on(FilterLogEventsCommand).callsFake(() => {
      calls += 1;
      const count = calls === 1 ? 1 : 5;
      return {
        events: Array.from({ length: count }, (_, n) => ({
          logStreamName: `preview/app/${taskId}`,
          eventId: String(n + 1),
          timestamp: Date.now() - 1000,
          message: `line ${n + 1}`,
        })),
      };
    });
    const last = await store().tail({ previewId }, logFilter({}), 3);
    expect(last.map((e) => e.message)).toEqual(['line 3', 'line 4', 'line 5']);
    expect(calls).toBe(2);
  });

  it('pre-filters plain searches in CloudWatch, case-insensitively; others only here', () => {
    expect(searchPattern('Timeout 5')).toBe('%[Tt][Ii][Mm][Ee][Oo][Uu][Tt] 5%');
    expect(searchPattern('/api/users')).toBeUndefined();
    expect(searchPattern(undefined)).toBeUndefined();
  });
});
