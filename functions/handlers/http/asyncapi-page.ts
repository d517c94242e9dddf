import type { asyncApiDocument } from './asyncapi-document.js';

type Document = ReturnType<typeof asyncApiDocument>;

interface MessageObject {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly payload: unknown;
  readonly examples: readonly { readonly payload: unknown }[];
}

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const html = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c] ?? c);
/** Markdown's inline code only: the document's prose uses nothing else. */
const prose = (text: string) => html(text).replace(/`([^`]+)`/g, '<code>$1</code>');
const json = (value: unknown) => `<pre>${html(JSON.stringify(value, null, 2))}</pre>`;

function message(name: string, m: MessageObject): string {
  return [
    `<section id="message-${html(name)}"><h3><code>${html(name)}</code> — ${html(m.summary)}</h3>`,
    m.description ? `<p>${prose(m.description)}</p>` : '',
    `<details><summary>Payload schema</summary>${json(m.payload)}</details>`,
    ...m.examples.map((e) => `<p>Example</p>${json(e.payload)}`),
    '</section>',
  ].join('\n');
}

/** A self-contained page (no script, no external resource) of the AsyncAPI document. */
export function asyncApiPage(document: Document): string {
  const messages = document.components.messages as Record<string, MessageObject>;
  const channel = document.channels.previewLiveStream;
  const server = document.servers.service;
  const section = (title: string, operation: { readonly messages: readonly { $ref: string }[] }) =>
    [
      `<h2>${html(title)}</h2>`,
      ...operation.messages.map((r) => {
        const name = r.$ref.split('/').at(-1) ?? '';
        return message(name, messages[name] as MessageObject);
      }),
    ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${html(document.info.title)}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
pre { background: #f5f5f5; padding: .75rem; overflow-x: auto; font-size: 13px; }
code { background: #f5f5f5; padding: 0 .2rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
section { border-top: 1px solid #ddd; margin-top: 1.5rem; }
</style>
</head>
<body>
<h1>${html(document.info.title)} <small>${html(document.info.version)}</small></h1>
${document.info.description
  .split('\n\n')
  .map((p) => `<p>${prose(p)}</p>`)
  .join('\n')}
<p>The machine-readable contract: <a href="/api/asyncapi.json">/api/asyncapi.json</a> (AsyncAPI ${html(document.asyncapi)}).</p>
<h2>Channel</h2>
<p><code>${html(server.protocol)}://${html(server.host)}${html(channel.address)}</code> — ${html(server.description)}</p>
<p>Connect query</p>
${json(channel.bindings.ws.query)}
<h2>Close codes</h2>
<table>
<tr><th>Code</th><th>Name</th><th>Meaning</th></tr>
${document.info['x-close-codes']
  .map((c) => `<tr><td>${c.code}</td><td><code>${html(c.name)}</code></td><td>${prose(c.meaning)}</td></tr>`)
  .join('\n')}
</table>
${section('Messages the service sends', document.operations.sendServerMessages)}
${section('Messages a client sends', document.operations.receiveClientActions)}
</body>
</html>
`;
}
