import type { ConnectionChannel, ConnectionStore, LiveConnection } from '../log-ports.js';
import { packMessages, type ServerMessage } from '../live-messages.js';

export interface DeliveryResult {
  /** WebSocket messages sent. */
  readonly sent: number;
  /** Connections found gone (410) and removed. */
  readonly gone: number;
  readonly failed: number;
}

export interface DeliveryTarget {
  readonly connectionId: string;
  readonly messages: readonly ServerMessage[];
}

type Outcome = { readonly kind: 'sent'; readonly posts: number } | { readonly kind: 'gone' | 'failed' };

/** What waits to be posted to one connection, and who waits for it. */
interface Outbox {
  readonly lists: (readonly ServerMessage[])[];
  readonly waiters: ((outcome: Outcome) => void)[];
}

/**
 * Sends messages to connections: packed within API Gateway's limits, in order per connection,
 * several connections at once (at most `concurrency` posts in flight). Each connection has one
 * post in flight at a time; what is sent to it meanwhile waits in its outbox and goes as one
 * packed post when that one is answered, so a client that lags gets several lines a message
 * rather than a queue of posts. A connection that is gone is removed and skipped.
 */
export class LiveDelivery {
  private readonly outboxes = new Map<string, Outbox>();
  /** Packed lists, shared by every connection sent the same list (a broadcast, equal filters). */
  private readonly packed = new WeakMap<readonly ServerMessage[], string[]>();
  private inFlight = 0;
  private readonly waitingForSlot: (() => void)[] = [];

  constructor(
    private readonly deps: {
      readonly connections: ConnectionStore;
      readonly channel: ConnectionChannel;
      /** Posts in flight at once, over all connections. */
      readonly concurrency: number;
      readonly onError?: (error: unknown, connectionId: string) => void;
    },
  ) {}

  async send(targets: readonly DeliveryTarget[]): Promise<DeliveryResult> {
    const outcomes = await Promise.all(
      targets.filter((t) => t.messages.length > 0).map((t) => this.post(t.connectionId, t.messages)),
    );
    let sent = 0;
    let gone = 0;
    let failed = 0;
    for (const outcome of outcomes) {
      if (outcome.kind === 'sent') sent += outcome.posts;
      else if (outcome.kind === 'gone') gone += 1;
      else failed += 1;
    }
    return { sent, gone, failed };
  }

  /** The same messages to every live connection of a preview; built only when there is one. */
  async broadcast(
    previewId: string,
    messages: () => Promise<readonly ServerMessage[]> | readonly ServerMessage[],
    accept: (connection: LiveConnection) => boolean = (c) => c.live,
  ): Promise<DeliveryResult> {
    const connections = (await this.deps.connections.byPreview(previewId)).filter(accept);
    if (connections.length === 0) return { sent: 0, gone: 0, failed: 0 };
    const built = await messages();
    return this.send(connections.map((c) => ({ connectionId: c.connectionId, messages: built })));
  }

  /** Queues messages for a connection; answers once they are posted (or could not be). */
  private post(connectionId: string, messages: readonly ServerMessage[]): Promise<Outcome> {
    return new Promise((resolve) => {
      const waiting = this.outboxes.get(connectionId);
      if (waiting) {
        waiting.lists.push(messages);
        waiting.waiters.push(resolve);
        return;
      }
      const outbox: Outbox = { lists: [messages], waiters: [resolve] };
      this.outboxes.set(connectionId, outbox);
      void this.drain(connectionId, outbox);
    });
  }

  /** Posts what the connection's outbox holds, then what came meanwhile, until it is empty. */
  private async drain(connectionId: string, outbox: Outbox): Promise<void> {
    while (outbox.lists.length > 0) {
      const lists = outbox.lists.splice(0);
      const waiters = outbox.waiters.splice(0);
      const outcome = await this.postPacked(connectionId, this.packedOnce(lists));
      for (const resolve of waiters) resolve(outcome);
      if (outcome.kind === 'gone') {
        for (const resolve of outbox.waiters.splice(0)) resolve(outcome);
        outbox.lists.length = 0;
      }
    }
    this.outboxes.delete(connectionId);
  }

  private packedOnce(lists: readonly (readonly ServerMessage[])[]): string[] {
    const only = lists.length === 1 ? lists[0] : undefined;
    if (!only) return packMessages(lists.flat());
    let data = this.packed.get(only);
    if (!data) this.packed.set(only, (data = packMessages(only)));
    return data;
  }

  private async postPacked(connectionId: string, packed: readonly string[]): Promise<Outcome> {
    let posts = 0;
    try {
      for (const data of packed) {
        await this.slot();
        let open: boolean;
        try {
          open = await this.deps.channel.send(connectionId, data);
        } finally {
          this.release();
        }
        if (!open) {
          await this.deps.connections.remove(connectionId);
          return { kind: 'gone' };
        }
        posts += 1;
      }
      return { kind: 'sent', posts };
    } catch (error) {
      this.deps.onError?.(error, connectionId);
      return { kind: 'failed' };
    }
  }

  private async slot(): Promise<void> {
    if (this.inFlight < this.deps.concurrency) {
      this.inFlight += 1;
      return;
    }
    // The slot is handed over by `release`, which leaves `inFlight` as it is.
    await new Promise<void>((resolve) => this.waitingForSlot.push(resolve));
  }

  private release(): void {
    const next = this.waitingForSlot.shift();
    if (next) next();
    else this.inFlight -= 1;
  }
}
