/**
 * Lints the live stream's AsyncAPI document (as served locally and in AWS) with the AsyncAPI
 * parser: any diagnostic fails, so the contract stays valid as the schemas change.
 */
import { Parser } from '@asyncapi/parser';
import { asyncApiDocument } from '#handlers/http/asyncapi-document.js';

const variants = {
  local: { api: 'http://127.0.0.1:3000', websocket: undefined },
  aws: { api: 'https://api.example.com/prod', websocket: 'wss://ws.example.com/prod' },
};

const parser = new Parser();
let problems = 0;
for (const [name, urls] of Object.entries(variants)) {
  const { diagnostics } = await parser.parse(JSON.stringify(asyncApiDocument(urls)));
  for (const d of diagnostics)
    console.error(`asyncapi (${name}): ${d.code} ${d.message} at ${d.path.join('.')}`);
  problems += diagnostics.length;
}
if (problems > 0) process.exit(1);
