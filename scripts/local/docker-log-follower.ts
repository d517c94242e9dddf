import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { TaskOrigin } from '../../functions/core/log-ports.js';
import { secretsOf } from '../../functions/core/log-redaction.js';

/** One line a preview container printed, as Docker stamped it. */
export interface ContainerLine {
  readonly previewId: string;
  readonly taskId: string;
  readonly container: string;
  readonly message: string;
  readonly timestamp: number;
}

export interface DockerLogFollowerOptions {
  /** Told whose task a container belongs to before any of its lines. */
  readonly register: (taskId: string, origin: TaskOrigin) => void;
  readonly line: (line: ContainerLine) => void;
  readonly onError?: (error: unknown) => void;
}

const managed = 'preview.managed=true';

/**
 * Follows the output of every preview container (labelled `preview.managed`): the local
 * counterpart of the awslogs driver. Containers that start later are picked up from Docker's event
 * stream and read from their start, so no line is lost to the moment it took to notice them.
 */
export class DockerLogFollower {
  /** Containers followed (or about to be): a start event and the listing never both follow one. */
  private readonly followed = new Set<string>();
  private readonly streams = new Map<string, Readable>();
  private events: Readable | undefined;
  private stopped = false;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerLogFollowerOptions,
  ) {}

  async start(): Promise<void> {
    this.events = (await this.docker.getEvents({
      filters: { type: ['container'], event: ['start'], label: [managed] },
    })) as Readable;
    let pending = '';
    this.events.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim() !== '')) {
        const { id } = JSON.parse(line) as { id: string };
        this.follow(id, 0);
      }
    });
    this.events.on('error', (error) => this.options.onError?.(error));
    // Containers already running: from now on (their earlier output was read before, if at all).
    const running = await this.docker.listContainers({ filters: { label: [managed], status: ['running'] } });
    const now = Math.floor(Date.now() / 1000);
    for (const container of running) this.follow(container.Id, now);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.events?.destroy();
    for (const stream of this.streams.values()) stream.destroy();
    this.streams.clear();
  }

  private follow(id: string, since: number): void {
    if (this.stopped || this.followed.has(id)) return;
    this.followed.add(id);
    void this.attach(id, since).catch((error: unknown) => {
      this.followed.delete(id);
      // A container removed before it could be read has nothing more to say.
      if ((error as { statusCode?: number }).statusCode !== 404) this.options.onError?.(error);
    });
  }

  private async attach(id: string, since: number): Promise<void> {
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
    const stream = (await container.logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      since,
    })) as unknown as Readable;
    if (this.stopped) {
      stream.destroy();
      return;
    }
    this.streams.set(id, stream);
    let buffered = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Without a TTY, Docker frames each write: 8 bytes (stream, size), then the bytes.
      while (buffered.length >= 8) {
        const size = buffered.readUInt32BE(4);
        if (buffered.length < 8 + size) break;
        this.emit(previewId, taskId, name, buffered.subarray(8, 8 + size).toString('utf8'));
        buffered = buffered.subarray(8 + size);
      }
    });
    const ended = () => {
      this.streams.delete(id);
      this.followed.delete(id);
    };
    stream.on('close', ended);
    stream.on('error', ended);
  }

  /** Each line starts with Docker's RFC 3339 timestamp (nanoseconds), then a space. */
  private emit(previewId: string, taskId: string, container: string, text: string): void {
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      const space = raw.indexOf(' ');
      const stamp = Date.parse(raw.slice(0, space).replace(/(\.\d{3})\d+/, '$1'));
      const timestamp = Number.isNaN(stamp) ? Date.now() : stamp;
      this.options.line({ previewId, taskId, container, message: raw.slice(space + 1), timestamp });
    }
  }
}
