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

/**
 * Sends messages to connections: packed within API Gateway's limits, in order per connection,
 * several connections at once (bounded). A connection that is gone is removed and skipped.
 */
export class LiveDelivery {
  constructor(
    private readonly deps: {
      readonly connections: ConnectionStore;
      readonly channel: ConnectionChannel;
      /** Connections sent to at the same time. */
      readonly concurrency: number;
      readonly onError?: (error: unknown, connectionId: string) => void;
    },
  ) {}

  async send(targets: readonly DeliveryTarget[]): Promise<DeliveryResult> {
    const queue = targets.filter((t) => t.messages.length > 0);
    // Targets that share one list of messages (a broadcast, equal filters) share its packing.
    const packed = new Map<readonly ServerMessage[], string[]>();
    const packedOnce = (messages: readonly ServerMessage[]) => {
      let data = packed.get(messages);
      if (!data) packed.set(messages, (data = packMessages(messages)));
      return data;
    };
    let sent = 0;
    let gone = 0;
    let failed = 0;
    const worker = async () => {
      for (let target = queue.shift(); target; target = queue.shift()) {
        try {
          for (const data of packedOnce(target.messages)) {
            if (!(await this.deps.channel.send(target.connectionId, data))) {
              gone += 1;
              await this.deps.connections.remove(target.connectionId);
              break;
            }
            sent += 1;
          }
        } catch (error) {
          failed += 1;
          this.deps.onError?.(error, target.connectionId);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency, queue.length) }, worker));
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
}
