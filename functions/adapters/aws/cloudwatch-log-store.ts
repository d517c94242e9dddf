import {
  type CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  paginateFilterLogEvents,
} from '@aws-sdk/client-cloudwatch-logs';
import { compareCursors, cursorTime } from '#core/log-cursor.js';
import { logEntry, type LogEntry } from '#core/log-entry.js';
import { inRange, matchesFilter, type LogFilter, type LogRange } from '#core/log-filter.js';
import type { LogScope, LogStore } from '#core/log-ports.js';
import { buildLogStream, parseLogStream, taskLogStream } from '#core/log-streams.js';
import type { ContainerName } from '#core/task-definition.js';
import type { EcsLogSources } from './ecs-log-sources.js';

const containerNames: readonly ContainerName[] = ['database', 'migrate', 'seed', 'app', 'bridge'];

/** How far back `tail` looks, widening until it has enough lines. */
const tailWindowsMs = [60_000, 10 * 60_000, 3600_000, 86_400_000, 3650 * 86_400_000];

/**
 * A case-insensitive CloudWatch filter pattern for a plain search text: a coarse first cut made
 * by CloudWatch; the exact filter runs on the parsed, redacted lines. Other texts are not sent.
 */
export function searchPattern(search: string | undefined): string | undefined {
  if (!search || !/^[A-Za-z0-9 ]+$/.test(search)) return undefined;
  const letters = [...search].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c));
  return `%${letters.join('')}%`;
}

/**
 * A preview's lines as CloudWatch Logs keeps them (the awslogs driver ships them; the log group's
 * retention keeps them after the preview). Read with FilterLogEvents over the streams of the
 * preview's tasks, then parsed and redacted like the live lines, with the preview's redaction list
 * (kept as long as the lines, so it outlives the tasks ECS forgets after an hour).
 */
export class CloudWatchLogStore implements LogStore {
  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly logGroup: string,
    private readonly sources: EcsLogSources,
  ) {}

  async record(): Promise<void> {
    // CloudWatch Logs holds every line already.
  }

  async *entries(scope: LogScope, filter: LogFilter, range: LogRange): AsyncGenerator<LogEntry> {
    const streams = await this.streams(scope);
    if (streams.length === 0) return;
    const secrets = await this.sources.redactions.secrets(scope.previewId);
    const start = range.after ? cursorTime(range.after) : range.start;
    const pages = paginateFilterLogEvents(
      { client: this.client },
      {
        logGroupName: this.logGroup,
        logStreamNames: streams,
        ...(start ? { startTime: start.getTime() } : {}),
        ...(range.end ? { endTime: range.end.getTime() } : {}),
        ...(searchPattern(filter.search) ? { filterPattern: searchPattern(filter.search) } : {}),
      },
    );
    for await (const page of pages) {
      const entries: LogEntry[] = [];
      for (const event of page.events ?? []) {
        const entry = this.entry(event, secrets);
        if (entry && matchesFilter(entry, filter) && inRange(entry, range)) entries.push(entry);
      }
      yield* entries.sort((a, b) => compareCursors(a.cursor, b.cursor));
    }
  }

  async tail(scope: LogScope, filter: LogFilter, count: number): Promise<LogEntry[]> {
    let last: LogEntry[] = [];
    for (const window of tailWindowsMs) {
      last = [];
      for await (const entry of this.entries(scope, filter, { start: new Date(Date.now() - window) })) {
        last.push(entry);
        if (last.length > count) last.shift();
      }
      if (last.length >= count) break;
    }
    return last;
  }

  private entry(
    event: { eventId?: string; timestamp?: number; message?: string; logStreamName?: string },
    secrets: readonly string[],
  ): LogEntry | undefined {
    const stream = parseLogStream(event.logStreamName ?? '');
    if (!stream || event.eventId === undefined || event.timestamp === undefined) return undefined;
    return logEntry(
      { id: event.eventId, timestamp: event.timestamp, message: event.message ?? '' },
      { container: stream.container, secrets },
    );
  }

  /** The preview's streams that exist: FilterLogEvents refuses names of streams that do not. */
  private async streams(scope: LogScope): Promise<string[]> {
    const taskIds = await this.sources.taskIds(scope);
    const candidates = [
      buildLogStream(scope.previewId),
      ...taskIds.flatMap((taskId) => containerNames.map((container) => taskLogStream(container, taskId))),
    ];
    const found = await Promise.all(
      candidates.map(async (name) => {
        const { logStreams = [] } = await this.client.send(
          new DescribeLogStreamsCommand({ logGroupName: this.logGroup, logStreamNamePrefix: name }),
        );
        return logStreams.some((s) => s.logStreamName === name) ? name : undefined;
      }),
    );
    return found.filter((name): name is string => name !== undefined);
  }
}
