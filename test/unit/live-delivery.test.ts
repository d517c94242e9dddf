import { describe, expect, it } from 'vitest';
import type { LogEntry } from '#core/log-entry.js';
import type { LiveConnection } from '#core/log-ports.js';
import { logMessage, messageLimits, type ServerMessage } from '#core/live-messages.js';
import { LiveDelivery } from '#core/services/live-delivery.js';
import { InMemoryConnectionStore, RecordingChannel } from '../support/in-memory.js';

function line(n: number, message = `line ${n}`): ServerMessage {
  const entry: LogEntry = {
    timestamp: new Date(Date.UTC(2026, 0, 1, 12, 0, 0, n)).toISOString(),
    level: 'INFO',
    source: 'request',
    message,
    metadata: {},
    cursor: `${1767268800000 + n}-${n}`,
  };
  return logMessage(entry);
}

function connection(connectionId: string, previewId: string, live = true): LiveConnection {
  return {
    connectionId,
    previewId,
    userId: 'user-1',
    generationId: 'gen-1',
    connectedAt: '2026-01-01T12:00:00.000Z',
    filter: { level: 'DEBUG' },
    subscribed: true,
    replay: { buffer: 0 },
    live,
  };
}

function world(concurrency = 4) {
  const connections = new InMemoryConnectionStore();
  const channel = new RecordingChannel();
  const errors: string[] = [];
  const delivery = new LiveDelivery({
    connections,
    channel,
    concurrency,
    onError: (_error, connectionId) => errors.push(connectionId),
  });
  return { connections, channel, errors, delivery };
}

describe('LiveDelivery', () => {
  it('sends every message once, in order, packed into as few WebSocket messages as fit a frame', async () => {
    const { channel, delivery } = world();
    const messages = Array.from({ length: 50 }, (_, n) => line(n));

    const result = await delivery.send([{ connectionId: 'c1', messages }]);

    expect(result).toEqual({ sent: 1, gone: 0, failed: 0 });
    expect(channel.received('c1').map((m) => m.message)).toEqual(messages.map((_, n) => `line ${n}`));
  });

  it('splits a burst larger than a frame into several messages, none over the frame size, none lost', async () => {
    const { channel, delivery } = world();
    const messages = Array.from({ length: 40 }, (_, n) => line(n, `${n}:${'x'.repeat(4000)}`));

    const result = await delivery.send([{ connectionId: 'c1', messages }]);

    const sent = channel.messagesTo('c1');
    expect(sent.length).toBeGreaterThan(1);
    expect(result.sent).toBe(sent.length);
    for (const data of sent) expect(Buffer.byteLength(data)).toBeLessThanOrEqual(messageLimits.frameBytes);
    expect(channel.received('c1').map((m) => String(m.message).split(':')[0])).toEqual(
      messages.map((_, n) => String(n)),
    );
  });

  it('removes a connection that is gone, stops sending to it, and still serves the others', async () => {
    const { connections, channel, delivery } = world();
    await connections.put(connection('gone', 'p1'));
    await connections.put(connection('here', 'p1'));
    channel.gone.add('gone');
    const burst = Array.from({ length: 40 }, (_, n) => line(n, 'y'.repeat(4000)));

    const result = await delivery.send([
      { connectionId: 'gone', messages: burst },
      { connectionId: 'here', messages: [line(1)] },
    ]);

    expect(result).toEqual({ sent: 1, gone: 1, failed: 0 });
    expect(connections.ids()).toEqual(['here']);
    expect(channel.messagesTo('gone')).toEqual([]);
    expect(channel.received('here')).toHaveLength(1);
  });

  it('counts and reports a connection whose send fails, without removing it or stopping the others', async () => {
    const { connections, channel, errors, delivery } = world();
    await connections.put(connection('broken', 'p1'));
    channel.failing.add('broken');

    const result = await delivery.send([
      { connectionId: 'broken', messages: [line(1)] },
      { connectionId: 'ok', messages: [line(2)] },
    ]);

    expect(result).toEqual({ sent: 1, gone: 0, failed: 1 });
    expect(errors).toEqual(['broken']);
    expect(connections.ids()).toEqual(['broken']);
    expect(channel.received('ok').map((m) => m.message)).toEqual(['line 2']);
  });

  it('skips targets with nothing to send', async () => {
    const { channel, delivery } = world();
    const result = await delivery.send([{ connectionId: 'c1', messages: [] }]);
    expect(result).toEqual({ sent: 0, gone: 0, failed: 0 });
    expect(channel.messagesTo('c1')).toEqual([]);
  });

  it('sends to no more connections at once than its concurrency', async () => {
    let inFlight = 0;
    let most = 0;
    class SlowChannel extends RecordingChannel {
      override async send(connectionId: string, data: string): Promise<boolean> {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return super.send(connectionId, data);
      }
    }
    const channel = new SlowChannel();
    const delivery = new LiveDelivery({
      connections: new InMemoryConnectionStore(),
      channel,
      concurrency: 3,
    });
    const targets = Array.from({ length: 10 }, (_, n) => ({ connectionId: `c${n}`, messages: [line(n)] }));

    const result = await delivery.send(targets);

    expect(result.sent).toBe(10);
    expect(most).toBe(3);
    expect(targets.every((t) => channel.received(t.connectionId).length === 1)).toBe(true);
  });

  it('coalesces what is sent to a connection while a post to it is in flight into one message, in order', async () => {
    const held: (() => void)[] = [];
    class HeldChannel extends RecordingChannel {
      override async send(connectionId: string, data: string): Promise<boolean> {
        await new Promise<void>((resolve) => held.push(resolve));
        return super.send(connectionId, data);
      }
    }
    const channel = new HeldChannel();
    const delivery = new LiveDelivery({
      connections: new InMemoryConnectionStore(),
      channel,
      concurrency: 8,
    });

    const first = delivery.send([{ connectionId: 'c1', messages: [line(1)] }]);
    await new Promise((resolve) => setImmediate(resolve));
    const second = delivery.send([{ connectionId: 'c1', messages: [line(2)] }]);
    const third = delivery.send([{ connectionId: 'c1', messages: [line(3), line(4)] }]);
    expect(held).toHaveLength(1);
    held.shift()?.();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(held).toHaveLength(1);
    held.shift()?.();

    expect(await first).toEqual({ sent: 1, gone: 0, failed: 0 });
    expect(await second).toEqual({ sent: 1, gone: 0, failed: 0 });
    expect(await third).toEqual({ sent: 1, gone: 0, failed: 0 });
    expect(channel.messagesTo('c1')).toHaveLength(2);
    expect(channel.messagesTo('c1')[1]?.split('\n')).toHaveLength(3);
    expect(channel.received('c1').map((m) => m.message)).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('answers every waiting send as gone when the connection turns out gone, and removes it once', async () => {
    const { connections, channel, delivery } = world();
    await connections.put(connection('c1', 'p1'));
    channel.gone.add('c1');
    let removals = 0;
    const remove = connections.remove.bind(connections);
    connections.remove = async (id) => {
      removals += 1;
      await remove(id);
    };

    const results = await Promise.all([
      delivery.send([{ connectionId: 'c1', messages: [line(1)] }]),
      delivery.send([{ connectionId: 'c1', messages: [line(2)] }]),
    ]);

    expect(results).toEqual([
      { sent: 0, gone: 1, failed: 0 },
      { sent: 0, gone: 1, failed: 0 },
    ]);
    expect(removals).toBe(1);
    expect(connections.ids()).toEqual([]);
  });

  it('keeps at most its concurrency of posts in flight across overlapping sends', async () => {
    let inFlight = 0;
    let most = 0;
    class SlowChannel extends RecordingChannel {
      override async send(connectionId: string, data: string): Promise<boolean> {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight -= 1;
        return super.send(connectionId, data);
      }
    }
    const channel = new SlowChannel();
    const delivery = new LiveDelivery({
      connections: new InMemoryConnectionStore(),
      channel,
      concurrency: 4,
    });
    const targets = (from: number) =>
      Array.from({ length: 20 }, (_, n) => ({ connectionId: `c${from + n}`, messages: [line(n)] }));

    const results = await Promise.all([delivery.send(targets(0)), delivery.send(targets(100))]);

    expect(results.map((r) => r.sent)).toEqual([20, 20]);
    expect(most).toBe(4);
  });

  it('broadcasts to the live connections of the preview only, and builds no message when there is none', async () => {
    const { connections, channel, delivery } = world();
    await connections.put(connection('live', 'p1'));
    await connections.put(connection('replaying', 'p1', false));
    await connections.put(connection('other-preview', 'p2'));
    let built = 0;
    const build = () => {
      built += 1;
      return [line(7)];
    };

    const result = await delivery.broadcast('p1', build);
    const none = await delivery.broadcast('p3', build);

    expect(result).toEqual({ sent: 1, gone: 0, failed: 0 });
    expect(none).toEqual({ sent: 0, gone: 0, failed: 0 });
    expect(built).toBe(1);
    expect(channel.received('live').map((m) => m.message)).toEqual(['line 7']);
    expect(channel.messagesTo('replaying')).toEqual([]);
    expect(channel.messagesTo('other-preview')).toEqual([]);
  });

  it('broadcasts to the connections a caller accepts', async () => {
    const { connections, channel, delivery } = world();
    await connections.put(connection('live', 'p1'));
    await connections.put(connection('replaying', 'p1', false));

    await delivery.broadcast(
      'p1',
      () => [line(1)],
      () => true,
    );

    expect(channel.received('live')).toHaveLength(1);
    expect(channel.received('replaying')).toHaveLength(1);
  });
});
