import { existsSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, expect, it } from 'vitest';
import { restFunctions } from '#handlers/registry.js';
import { esmRequireBanner, projectRoot, ServiceFunction } from '#lib/service-function.js';

const outdir = mkdtempSync(path.join(os.tmpdir(), 'preview-service-bundle-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** One real handler through the same bundling as every function: `cdk synth` bundles them all. */
it('a function is bundled by the local esbuild into one ESM file with a source map and the require banner', () => {
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bundle');
  const fn = new ServiceFunction(stack, 'Openapi', {
    entry: fileURLToPath(restFunctions['get-openapi'].module.entry),
    description: 'bundling check',
    defaults: { stage: 'test', retainLogs: false, logRetention: RetentionDays.ONE_DAY, projectRoot },
  });
  app.synth();
  const code = stack.resolve((fn.function.node.defaultChild as unknown as { code: unknown }).code) as {
    s3Key: string;
  };
  const assetDir = path.join(outdir, `asset.${code.s3Key.replace(/\.zip$/, '')}`);
  const bundle = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
  expect(bundle.startsWith(esmRequireBanner)).toBe(true);
  expect(/export\s*\{[^}]*\bhandler\b/.test(bundle)).toBe(true);
  // The SDK comes with the runtime: imported, not bundled.
  expect(/from\s*"@aws-sdk\/client-dynamodb"/.test(bundle)).toBe(true);
  expect(bundle.includes('class DynamoDBClient')).toBe(false);
  const map = JSON.parse(readFileSync(path.join(assetDir, 'index.mjs.map'), 'utf8')) as {
    sourcesContent?: unknown;
  };
  expect(map.sourcesContent).toBeUndefined();
  expect(existsSync(path.join(assetDir, 'index.mjs.map'))).toBe(true);
}, 60_000);
