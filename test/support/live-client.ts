import { WebSocket } from 'ws';

/** A server message as clients parse it: one JSON object per line of a WebSocket message. */
export interface Received {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** A WebSocket client of the live stream that keeps every message it was sent, in order. */
export class LiveClient {
  readonly received: Received[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      for (const line of data.toString().split('\n')) this.received.push(JSON.parse(line) as Received);
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Opens a connection; rejects with the status and body of a refused handshake. */
  static connect(url: string): Promise<LiveClient> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new LiveClient(socket)));
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          reject(Object.assign(new Error('refused'), { status: response.statusCode, body })),
        );
      });
      socket.once('error', reject);
    });
  }

  get logs(): Received[] {
    return this.received.filter((m) => m.type === 'log');
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Waits until `done` holds for what was received, for at most `timeoutMs`. */
  async until(done: (received: Received[]) => boolean, timeoutMs = 5000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`gave up waiting; received ${JSON.stringify(this.received.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }

  /** The first message of a type received after `from` messages. */
  async next(type: string, from = this.received.length, timeoutMs = 5000): Promise<Received> {
    await this.until((all) => all.slice(from).some((m) => m.type === type), timeoutMs);
    return this.received.slice(from).find((m) => m.type === type) as Received;
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
