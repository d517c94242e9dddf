import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { closeCodes } from '#core/live-messages.js';
import { serverMessageSchemas } from '#core/live-schemas.js';
import {
  asyncApiDocument,
  closeCodeMeanings,
  serverMessageExamples,
} from '#handlers/http/asyncapi-document.js';
import { asyncApiPage } from '#handlers/http/asyncapi-page.js';
import { webSocketRoutes } from '#handlers/websocket/routes.js';

const local = { api: 'http://127.0.0.1:3000', websocket: undefined };
const aws = { api: 'https://api.example.com/prod', websocket: 'wss://ws.example.com/prod' };

describe('the AsyncAPI document of the live stream', () => {
  it.each([
    ['local', local],
    ['AWS', aws],
  ])(
    'is valid AsyncAPI 3 for the %s URLs: the parser reports no error',
    async (_where, urls) => {
      const { document, diagnostics } = await new Parser().parse(JSON.stringify(asyncApiDocument(urls)));
      expect(diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error)).toEqual([]);
      expect(document?.version()).toMatch(/^3\./);
      const channel = document?.channels().all()[0];
      expect(channel?.address()).toBe(
        urls.websocket ? '/prod' : '/api/generations/{generationId}/preview/logs',
      );
    },
    60_000,
  );

  it('has every server message of the schemas and every client action of the routes, each with its example', () => {
    const document = asyncApiDocument(local);
    const sent = document.operations.sendServerMessages.messages.map((m) => m.$ref.split('/').at(-1));
    const received = document.operations.receiveClientActions.messages.map((m) => m.$ref.split('/').at(-1));
    expect(sent).toEqual(Object.keys(serverMessageSchemas));
    expect(received.sort()).toEqual(
      webSocketRoutes
        .map((r) => r.routeKey)
        .filter((key) => !key.startsWith('$'))
        .sort(),
    );
    for (const name of [...sent, ...received]) {
      expect(document.components.messages).toHaveProperty([String(name), 'examples', 0, 'payload']);
    }
  });

  it("has examples that are valid by their message's schema", () => {
    for (const [type, schema] of Object.entries(serverMessageSchemas)) {
      const example = serverMessageExamples[type as keyof typeof serverMessageSchemas];
      expect(schema.safeParse(example).error, type).toBeUndefined();
    }
  });

  it('lists each close code with what a client should do', () => {
    const listed = asyncApiDocument(local).info['x-close-codes'];
    expect(listed.map((c) => [c.name, c.code])).toEqual(Object.entries(closeCodes));
    for (const c of listed) expect(c.meaning).toBe(closeCodeMeanings[c.name as keyof typeof closeCodes]);
  });
});

describe('the WebSocket reference page', () => {
  const page = asyncApiPage(asyncApiDocument(local));

  it('shows the channel, every message with its schema and example, and the close codes', () => {
    expect(page).toContain('ws://127.0.0.1:3000/api/generations/{generationId}/preview/logs');
    for (const name of [...Object.keys(serverMessageSchemas), 'subscribe', 'unsubscribe', 'ping']) {
      expect(page).toContain(`id="message-${name}"`);
    }
    for (const code of Object.values(closeCodes)) expect(page).toContain(`<td>${code}</td>`);
    expect(page).toContain('&quot;type&quot;: &quot;closing&quot;');
  });

  it('is self-contained: no script and nothing loaded from elsewhere', () => {
    expect(page).not.toMatch(/<script|<link|src=|https?:\/\/(?!127\.0\.0\.1)/);
  });
});
