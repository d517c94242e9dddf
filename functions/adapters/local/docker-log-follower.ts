import type Docker from 'dockerode';
import { Writable, type Readable } from 'node:stream';
import type { TaskOrigin } from '#core/log-ports.js';
import { secretsOf } from '#core/log-redaction.js';
import { DockerEventStream } from './docker-event-stream.js';

/** One line a preview container printed, as Docker stamped it. */
export interface ContainerLine {
  readonly previewId: string;
  readonly taskId: string;
  readonly container: string;
  readonly message: string;
  /** Docker's timestamp in milliseconds. */
  readonly timestamp: number;
  /** Where the line sits in its container's output: Docker's timestamp in nanoseconds. */
  readonly stampNs: bigint;
}

/** A container whose output is about to be followed. */
export interface FollowedContainer {
  readonly previewId: string;
  readonly container: string;
  /** When it started, in nanoseconds: none of its lines is older. */
  readonly startedNs: bigint;
}

export interface DockerLogFollowerOptions {
  /** Told whose task a container belongs to before any of its lines. */
  readonly register: (taskId: string, origin: TaskOrigin) => void;
  readonly line: (line: ContainerLine) => void;
  /**
   * The stamp of the container's last line already kept (by an earlier run of the service), or
   * undefined when none is: reading starts after it, or at the container's start.
   */
  readonly keptUntil?: (container: FollowedContainer) => Promise<bigint | undefined>;
  /** Only this service instance's containers (`preview.owner`), when several share an engine. */
  readonly owner?: string;
  readonly onError?: (error: unknown) => void;
}

const managed = 'preview.managed=true';
/** Docker states of a container whose output is complete. */
const stoppedStates = new Set(['exited', 'dead']);
const neverStarted = '0001-01-01T00:00:00Z';

/** Docker's RFC 3339 timestamp (up to nanoseconds) as nanoseconds since the epoch. */
export function dockerStampNs(stamp: string): bigint | undefined {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(stamp);
  if (!match) return undefined;
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** Nanoseconds as Docker's `since` (seconds with a fraction); Docker's `since` includes that instant. */
function sinceOf(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

/**
 * Follows the output of every preview container (labelled `preview.managed`): the local
 * counterpart of the awslogs driver. Containers that start later are picked up from Docker's event
 * stream and read from their start. A container already running is read from after its last line
 * kept, so what it printed while the service was down is collected; when the engine goes away,
 * the event stream reconnects and each container is read again from its last line seen.
 */
export class DockerLogFollower {
  /** Containers followed (or about to be): a start event and the listing never both follow one. */
  private readonly followed = new Set<string>();
  private readonly streams = new Map<string, Readable>();
  /** The stamp of each container's last line seen: reading again starts after it. */
  private readonly lastSeen = new Map<string, bigint>();
  private readonly events: DockerEventStream;
  private stopped = false;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerLogFollowerOptions,
  ) {
    const labels = [managed, ...(options.owner ? [`preview.owner=${options.owner}`] : [])];
    this.events = new DockerEventStream(docker, {
      filters: { type: ['container'], event: ['start'], label: labels },
      onEvent: (event) => {
        const id = event.id ?? event.Actor?.ID;
        if (id) void this.follow(id);
      },
      // Containers running now, the first time and after the engine came back; those that stopped
      // while no one read them (the service was down) are read to their end before `start`
      // resolves, so the recovery that replaces their task (and removes them) comes after.
      onConnected: async () => {
        const listed = await docker.listContainers({ all: true, filters: { label: labels } });
        await Promise.all(
          listed.map((container) =>
            container.State === 'running'
              ? this.follow(container.Id)
              : stoppedStates.has(container.State)
                ? this.follow(container.Id, { toEnd: true })
                : undefined,
          ),
        );
      },
      onError: (error) => options.onError?.(error),
    });
  }

  async start(): Promise<void> {
    await this.events.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.events.stop();
    for (const stream of this.streams.values()) stream.destroy();
    this.streams.clear();
  }

  /** Resolves once the container is followed, or with `toEnd` once its output has been read. */
  private async follow(id: string, options: { toEnd?: boolean } = {}): Promise<void> {
    if (this.stopped || this.followed.has(id)) return;
    this.followed.add(id);
    await this.attach(id, options.toEnd ?? false).catch((error: unknown) => {
      this.followed.delete(id);
      // A container removed before it could be read has nothing more to say.
      if ((error as { statusCode?: number }).statusCode !== 404) this.options.onError?.(error);
    });
  }

  private async attach(id: string, toEnd: boolean): Promise<void> {
    const container = this.docker.getContainer(id);
    const inspection = await container.inspect();
    const labels = inspection.Config.Labels;
    const previewId = labels['preview.id'];
    const taskId = labels['preview.task'];
    const name = labels['preview.container'];
    if (!previewId || !taskId || !name) return;
    const environment = Object.fromEntries(
      (inspection.Config.Env ?? []).map((pair) => [
        pair.slice(0, pair.indexOf('=')),
        pair.slice(pair.indexOf('=') + 1),
      ]),
    );
    this.options.register(taskId, { previewId, secrets: secretsOf(environment) });
    const startedNs =
      inspection.State.StartedAt && inspection.State.StartedAt !== neverStarted
        ? (dockerStampNs(inspection.State.StartedAt) ?? 0n)
        : 0n;
    let after = this.lastSeen.get(id);
    if (after === undefined) {
      after = await this.options.keptUntil?.({ previewId, container: name, startedNs });
      if (after !== undefined) this.lastSeen.set(id, after);
    }
    const stream = (await container.logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      since: after === undefined ? 0 : sinceOf(after),
    })) as unknown as Readable;
    if (this.stopped) {
      stream.destroy();
      return;
    }
    this.streams.set(id, stream);
    // Without a TTY, Docker frames each log message; the demultiplexer writes each frame's bytes once.
    const frames = new Writable({
      write: (frame: Buffer, _encoding, done) => {
        this.emit(id, previewId, taskId, name, frame.toString('utf8'));
        done();
      },
    });
    this.docker.modem.demuxStream(stream, frames, frames);
    const read = new Promise<void>((resolve) => {
      const ended = () => {
        if (this.streams.get(id) === stream) this.streams.delete(id);
        this.followed.delete(id);
        resolve();
      };
      stream.on('close', ended);
      stream.on('error', ended);
    });
    if (toEnd) await read;
  }

  /** Each line starts with Docker's RFC 3339 timestamp (nanoseconds), then a space. */
  private emit(id: string, previewId: string, taskId: string, container: string, text: string): void {
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      const space = raw.indexOf(' ');
      const stampNs = dockerStampNs(raw.slice(0, space));
      const last = this.lastSeen.get(id);
      // `since` includes its instant: the line read last time comes again.
      if (stampNs !== undefined && last !== undefined && stampNs <= last) continue;
      if (stampNs !== undefined) this.lastSeen.set(id, stampNs);
      const timestamp = stampNs === undefined ? Date.now() : Number(stampNs / 1_000_000n);
      this.options.line({
        previewId,
        taskId,
        container,
        message: raw.slice(space + 1),
        timestamp,
        stampNs: stampNs ?? 0n,
      });
    }
  }
}
