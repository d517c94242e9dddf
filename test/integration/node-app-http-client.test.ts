import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAppHttpClient } from '#adapters/node-app-http-client.js';
import { proxyLimits } from '#core/app-request.js';

/** Two apps on loopback, counting the connections each accepted. */
let servers: Server[] = [];
const connections: number[] = [0, 0];

beforeAll(async () => {
  servers = await Promise.all(
    [0, 1].map(
      (index) =>
        new Promise<Server>((resolve) => {
          const server = createServer((_req, res) => res.end(`app ${index}`));
          server.on('connection', () => {
            connections[index]! += 1;
          });
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

const endpointOf = (server: Server) => ({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
const get = (client: NodeAppHttpClient, server: Server) =>
  client.send(endpointOf(server), { method: 'GET', target: '/', headers: {} }, proxyLimits);

describe('NodeAppHttpClient', () => {
  it('keeps one connection per app alive across requests, and closes it when the app is released', async () => {
    const client = new NodeAppHttpClient();
    connections.fill(0);

    for (let i = 0; i < 3; i += 1) {
      expect((await get(client, servers[0]!)).body.toString()).toBe('app 0');
      expect((await get(client, servers[1]!)).body.toString()).toBe('app 1');
    }
    expect(connections).toEqual([1, 1]);

    client.release(endpointOf(servers[0]!));
    await get(client, servers[0]!);
    await get(client, servers[1]!);

    expect(connections).toEqual([2, 1]);
    client.release(endpointOf(servers[0]!));
    client.release(endpointOf(servers[1]!));
  });
});
