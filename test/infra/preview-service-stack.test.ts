import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableDefinitions } from '../../functions/adapters/aws/table-definitions.js';
import { routes } from '../../functions/handlers/http/routes.js';
import { gatewayErrors } from '../../lib/gateway-responses.js';
import { PreviewServiceStack, stackName } from '../../lib/preview-service-stack.js';
import { esmRequireBanner } from '../../lib/service-function.js';
import { parseJwtSettings, parseStage, stageConfigFromContext } from '../../lib/stage-config.js';

interface CfnResourceJson {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: Record<string, unknown>;
}

const jwtContext = {
  jwtJwksUrl: 'https://id.example.com/.well-known/jwks.json',
  jwtIssuer: 'https://id.example.com/',
  jwtAudience: 'preview-service',
};

const outdirs: string[] = [];
afterAll(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

/** Synthesizes the stack the way `bin/preview-service.ts` does, from CDK context. */
function synthesize(context: Record<string, unknown>, bundle: boolean) {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'preview-service-cdk-'));
  outdirs.push(outdir);
  const app = new App({
    outdir,
    // An empty list skips asset bundling: enough for checks that do not look at the bundles.
    context: { ...context, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const config = stageConfigFromContext((key) => app.node.tryGetContext(key));
  const stack = new PreviewServiceStack(app, stackName(config.stage), { config });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, CfnResourceJson>;
  return { app, stack, template, resources };
}

function logicalId(stack: PreviewServiceStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnResource);
}

function ofType(resources: Record<string, CfnResourceJson>, type: string): [string, CfnResourceJson][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

/** The full path of an API Gateway resource, from its `ParentId` chain up to the root. */
function resourcePath(resources: Record<string, CfnResourceJson>, resourceId: unknown): string {
  const ref = (resourceId as { Ref?: string }).Ref;
  if (ref === undefined) return ''; // Fn::GetAtt RootResourceId
  const properties = resources[ref]?.Properties as { ParentId: unknown; PathPart: string };
  return `${resourcePath(resources, properties.ParentId)}/${properties.PathPart}`;
}

describe('stage configuration', () => {
  it('accepts lowercase stage names with digits and hyphens', () => {
    for (const stage of ['dev', 'prod', 'pr-42', 'eu1-staging']) expect(parseStage(stage)).toBe(stage);
  });

  it('rejects anything else with a message naming the context key', () => {
    for (const stage of [
      'Dev',
      'dev_1',
      '-dev',
      'dev-',
      'de--v',
      'dev env',
      'a'.repeat(33),
      42,
      '',
      undefined,
    ]) {
      expect(() => parseStage(stage)).toThrow(/context "stage"/);
    }
  });

  it('requires the JWKS URL to be https and the JWT settings to have no spaces', () => {
    const read = (values: Record<string, unknown>) => (key: string) => values[key];
    expect(parseJwtSettings(read(jwtContext))).toEqual({
      jwksUrl: jwtContext.jwtJwksUrl,
      issuer: jwtContext.jwtIssuer,
      audience: jwtContext.jwtAudience,
    });
    expect(parseJwtSettings(read({}))).toEqual({});
    expect(() => parseJwtSettings(read({ jwtJwksUrl: 'http://id.example.com/jwks' }))).toThrow(/https/);
    expect(() => parseJwtSettings(read({ jwtJwksUrl: 'not a url' }))).toThrow(/jwtJwksUrl/);
    expect(() => parseJwtSettings(read({ jwtAudience: 'two words' }))).toThrow(/jwtAudience/);
    expect(() => parseJwtSettings(read({ jwtIssuer: 7 }))).toThrow(/jwtIssuer/);
  });
});

describe('PreviewService stack (dev, bundled)', () => {
  let synth: ReturnType<typeof synthesize>;

  beforeAll(() => {
    synth = synthesize({ stage: 'dev', ...jwtContext }, true);
  }, 120_000);

  it('is named after the stage and needs no account or region', () => {
    expect(synth.stack.stackName).toBe('PreviewService-dev');
    expect(synth.stack.environment).toBe('aws://unknown-account/unknown-region');
  });

  describe('tables', () => {
    it.each(tableDefinitions.map((definition) => [definition.name, definition] as const))(
      '%s matches its table definition',
      (name, definition) => {
        const table = synth.resources[logicalId(synth.stack, synth.stack.tables.table(name))];
        expect(table?.Type).toBe('AWS::DynamoDB::Table');
        const properties = table?.Properties ?? {};

        const keySchema = (partitionKey: string, sortKey?: string) => [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' }] : []),
        ];
        expect(properties.KeySchema).toEqual(keySchema(definition.partitionKey, definition.sortKey));

        const keyAttributes = new Set(
          [definition, ...definition.indexes].flatMap((key) => [key.partitionKey, key.sortKey ?? []]).flat(),
        );
        expect(properties.AttributeDefinitions).toEqual(
          expect.arrayContaining(
            [...keyAttributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
          ),
        );
        expect(properties.AttributeDefinitions).toHaveLength(keyAttributes.size);

        const indexes = definition.indexes.map((index) => ({
          IndexName: index.name,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: { ProjectionType: 'ALL' },
        }));
        expect(properties.GlobalSecondaryIndexes).toEqual(indexes.length > 0 ? indexes : undefined);

        expect(properties.TimeToLiveSpecification).toEqual(
          definition.ttlAttribute ? { AttributeName: definition.ttlAttribute, Enabled: true } : undefined,
        );
        expect(properties.BillingMode).toBe('PAY_PER_REQUEST');
        expect(properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
        // SSE enabled without a key of our own: the AWS-managed aws/dynamodb key.
        expect(properties.SSESpecification).toEqual({ SSEEnabled: true });
        expect(properties.TableName).toBeUndefined();
        expect(table?.DeletionPolicy).toBe('Delete');
      },
    );

    it('are the only tables, and their names are outputs', () => {
      expect(ofType(synth.resources, 'AWS::DynamoDB::Table')).toHaveLength(tableDefinitions.length);
      for (const definition of tableDefinitions) {
        const id = logicalId(synth.stack, synth.stack.tables.table(definition.name));
        const outputName = `${definition.name.charAt(0).toUpperCase()}${definition.name.slice(1)}TableName`;
        synth.template.hasOutput(outputName, { Value: { Ref: id } });
      }
    });
  });

  describe('functions', () => {
    const authorizerId = () => logicalId(synth.stack, synth.stack.restApi.authorizer.function.function);
    const routeFunctionId = (handler: string) =>
      logicalId(synth.stack, synth.stack.restApi.routeFunction(handler).function);
    const tableRefs = () =>
      Object.fromEntries(
        tableDefinitions.map((definition) => [
          definition.envVar,
          { Ref: logicalId(synth.stack, synth.stack.tables.table(definition.name)) },
        ]),
      );

    it('are one per route handler plus the authorizer, all Node 22 on arm64 with a month of logs', () => {
      const functions = ofType(synth.resources, 'AWS::Lambda::Function');
      expect(functions).toHaveLength(new Set(routes.map((route) => route.handler)).size + 1);
      for (const [, fn] of functions) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          MemorySize: 512,
          TracingConfig: { Mode: 'Active' },
        });
        const logGroup = (fn.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(synth.resources[logGroup]).toMatchObject({
          Type: 'AWS::Logs::LogGroup',
          Properties: { RetentionInDays: 30 },
        });
      }
    });

    it.each(routes.map((route) => [route.handler] as const))(
      '%s gets the table names and service environment, and fits within API Gateway',
      (handler) => {
        const fn = synth.resources[routeFunctionId(handler)];
        expect(fn?.Properties?.Timeout).toBe(29);
        const { PREVIEW_PUBLIC_URL: publicUrl, ...variables } = (
          fn?.Properties?.Environment as { Variables: Record<string, unknown> }
        ).Variables;
        expect(variables).toEqual({
          ...tableRefs(),
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'preview-service',
          PREVIEW_STAGE: 'dev',
        });
        // The stage's base URL, from the API id alone (referring to the stage would be a cycle).
        const restApiRef = { Ref: logicalId(synth.stack, synth.stack.restApi.api) };
        expect(publicUrl).toEqual({
          'Fn::Join': [
            '',
            [
              'https://',
              restApiRef,
              '.execute-api.',
              { Ref: 'AWS::Region' },
              '.',
              { Ref: 'AWS::URLSuffix' },
              '/dev',
            ],
          ],
        });
      },
    );

    it.each(routes.map((route) => [route.handler] as const))(
      '%s may read and write items of every table, and nothing more on them',
      (handler) => {
        const role = (
          synth.resources[routeFunctionId(handler)]?.Properties?.Role as { 'Fn::GetAtt': string[] }
        )['Fn::GetAtt'][0];
        const statements = ofType(synth.resources, 'AWS::IAM::Policy')
          .filter(
            ([, policy]) => JSON.stringify(policy.Properties?.Roles) === JSON.stringify([{ Ref: role }]),
          )
          .flatMap(([, policy]) => (policy.Properties?.PolicyDocument as { Statement: unknown[] }).Statement);
        const dynamo = statements.filter((statement) => JSON.stringify(statement).includes('dynamodb:'));
        const actions = new Set(dynamo.flatMap((statement) => (statement as { Action: string[] }).Action));
        // Transactions are authorized by the actions of their items (Put/Update/Delete/ConditionCheck).
        for (const action of [
          'GetItem',
          'PutItem',
          'UpdateItem',
          'DeleteItem',
          'ConditionCheckItem',
          'Query',
        ]) {
          expect(actions).toContain(`dynamodb:${action}`);
        }
        for (const action of actions) {
          expect(action).not.toMatch(/\*|^dynamodb:(Create|Delete|Update)Table|TimeToLive|Backup|Restore/);
        }
        for (const { Ref } of Object.values(tableRefs())) {
          expect(dynamo).toContainEqual(
            expect.objectContaining({
              Effect: 'Allow',
              Resource: expect.arrayContaining([{ 'Fn::GetAtt': [Ref, 'Arn'] }]),
            }),
          );
        }
      },
    );

    it('the authorizer gets the JWT settings and no table access', () => {
      const fn = synth.resources[authorizerId()];
      expect((fn?.Properties?.Environment as { Variables: unknown }).Variables).toEqual({
        PREVIEW_JWT_JWKS_URL: jwtContext.jwtJwksUrl,
        PREVIEW_JWT_ISSUER: jwtContext.jwtIssuer,
        PREVIEW_JWT_AUDIENCE: jwtContext.jwtAudience,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'preview-service',
        PREVIEW_STAGE: 'dev',
      });
      const role = (fn?.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
      const policies = ofType(synth.resources, 'AWS::IAM::Policy').filter(([, policy]) =>
        JSON.stringify(policy.Properties?.Roles).includes(`"${role}"`),
      );
      expect(JSON.stringify(policies)).not.toContain('dynamodb:');
    });

    it('are bundled by esbuild into one ESM file with a source map and the require banner', () => {
      for (const [, fn] of ofType(synth.resources, 'AWS::Lambda::Function')) {
        const s3Key = String((fn.Properties?.Code as { S3Key: string }).S3Key);
        const assetDir = path.join(synth.app.outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
        const bundle = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
        expect(bundle.startsWith(esmRequireBanner)).toBe(true);
        expect(bundle).toMatch(/export\s*\{[^}]*\bas handler\b|export\s*\{[^}]*\bhandler\b/);
        expect(existsSync(path.join(assetDir, 'index.mjs.map'))).toBe(true);
      }
    });
  });

  describe('REST API', () => {
    const authorizerRef = () => ({ Ref: logicalId(synth.stack, synth.stack.restApi.authorizer.authorizer) });

    it.each(routes.map((route) => [route.method, route.path, route] as const))(
      '%s %s invokes its handler with the right authorization',
      (_method, routePath, route) => {
        const methods = ofType(synth.resources, 'AWS::ApiGateway::Method').filter(
          ([, method]) =>
            method.Properties?.HttpMethod === route.method &&
            resourcePath(synth.resources, method.Properties?.ResourceId) === routePath,
        );
        expect(methods).toHaveLength(1);
        const properties = methods[0]?.[1].Properties ?? {};
        if (route.authenticated) {
          expect(properties.AuthorizationType).toBe('CUSTOM');
          expect(properties.AuthorizerId).toEqual(authorizerRef());
        } else {
          expect(properties.AuthorizationType).toBe('NONE');
          expect(properties.AuthorizerId).toBeUndefined();
        }
        const fnId = logicalId(synth.stack, synth.stack.restApi.routeFunction(route.handler).function);
        expect(properties.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
        expect(JSON.stringify(properties.Integration)).toContain(
          JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
        );
      },
    );

    it('has no methods beyond the route table, and the OpenAPI document is the only public one', () => {
      const methods = ofType(synth.resources, 'AWS::ApiGateway::Method');
      expect(methods).toHaveLength(routes.length);
      const publicPaths = methods
        .filter(([, method]) => method.Properties?.AuthorizationType === 'NONE')
        .map(([, method]) => resourcePath(synth.resources, method.Properties?.ResourceId));
      expect(publicPaths).toEqual(['/api/openapi.json']);
    });

    it('proxies any method under /preview/proxy with a greedy path parameter', () => {
      const proxy = ofType(synth.resources, 'AWS::ApiGateway::Method').find(([, method]) =>
        resourcePath(synth.resources, method.Properties?.ResourceId).endsWith('/preview/proxy/{proxy+}'),
      );
      expect(proxy?.[1].Properties?.HttpMethod).toBe('ANY');
    });

    it('verifies bearer tokens with the authorizer function and caches decisions for 5 minutes', () => {
      const fnId = logicalId(synth.stack, synth.stack.restApi.authorizer.function.function);
      synth.template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
      synth.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
        Type: 'TOKEN',
        IdentitySource: 'method.request.header.Authorization',
        AuthorizerResultTtlInSeconds: 300,
      });
      const authorizer = ofType(synth.resources, 'AWS::ApiGateway::Authorizer')[0]?.[1].Properties ?? {};
      expect(JSON.stringify(authorizer.AuthorizerUri)).toContain(
        JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
      );
      const pattern = new RegExp(String(authorizer.IdentityValidationExpression));
      const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';
      // The scheme is case-insensitive, as in the verifier the local gateway uses.
      for (const header of [`Bearer ${jwt}`, `bearer ${jwt}`, `BEARER  ${jwt}`]) {
        expect(pattern.test(header)).toBe(true);
      }
      expect(pattern.test('Basic dXNlcjpwYXNz')).toBe(false);
      expect(pattern.test('Bearer not-a-jwt')).toBe(false);
    });

    it('stage is named after the stage, traced and throttled', () => {
      synth.template.resourceCountIs('AWS::ApiGateway::Stage', 1);
      synth.template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'dev',
        TracingEnabled: true,
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 50,
            ThrottlingBurstLimit: 100,
          }),
        ]),
      });
      synth.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
      // The account-wide CloudWatch role is not this stack's to own.
      synth.template.resourceCountIs('AWS::ApiGateway::Account', 0);
      const outputs = synth.template.findOutputs('*');
      expect(
        Object.keys(outputs).filter((name) => JSON.stringify(outputs[name]).includes('execute-api')),
      ).toEqual(['RestApiUrl']);
    });

    it.each([
      ['UNAUTHORIZED', '401', 'unauthorized', 'A valid bearer token is required.'],
      ['ACCESS_DENIED', '403', 'forbidden', undefined],
      ['MISSING_AUTHENTICATION_TOKEN', '404', 'not_found', undefined],
      ['THROTTLED', '429', 'rate_limited', undefined],
      ['REQUEST_TOO_LARGE', '413', 'payload_too_large', undefined],
      ['DEFAULT_4XX', undefined, 'bad_request', '$context.error.messageString'],
      ['DEFAULT_5XX', undefined, 'internal', undefined],
    ] as const)('gateway response %s answers %s in the error shape', (type, statusCode, code, message) => {
      const responses = ofType(synth.resources, 'AWS::ApiGateway::GatewayResponse').filter(
        ([, response]) => response.Properties?.ResponseType === type,
      );
      expect(responses).toHaveLength(1);
      const properties = responses[0]?.[1].Properties ?? {};
      expect(properties.StatusCode).toBe(statusCode);
      const template = (properties.ResponseTemplates as Record<string, string>)['application/json'] ?? '';
      // `$context.error.messageString` renders as a JSON string; stand in one to parse the template.
      const body = JSON.parse(
        template.replace('$context.error.messageString', '"$context.error.messageString"'),
      );
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe('string');
      if (message !== undefined) expect(body.error.message).toBe(message);
      expect(template).not.toMatch(/stack|\$context\.error\.validationErrorString/i);
    });

    it('every gateway response is defined once', () => {
      const types = ofType(synth.resources, 'AWS::ApiGateway::GatewayResponse').map(
        ([, response]) => response.Properties?.ResponseType,
      );
      expect(new Set(types).size).toBe(types.length);
      expect(types).toHaveLength(gatewayErrors.length);
    });
  });
});

describe('PreviewService stack (variants, not bundled)', () => {
  it('prod retains and protects its tables and keeps its logs', () => {
    const { resources } = synthesize({ stage: 'prod', ...jwtContext }, false);
    for (const [, table] of ofType(resources, 'AWS::DynamoDB::Table')) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
      expect(table.Properties?.DeletionProtectionEnabled).toBe(true);
    }
    for (const [, logGroup] of ofType(resources, 'AWS::Logs::LogGroup')) {
      expect(logGroup.DeletionPolicy).toBe('Retain');
    }
  });

  it('without JWT context the authorizer has no JWT settings and synth warns', () => {
    const { stack, resources } = synthesize({ stage: 'pr-7' }, false);
    expect(stack.stackName).toBe('PreviewService-pr-7');
    const fn = resources[logicalId(stack, stack.restApi.authorizer.function.function)];
    expect(Object.keys((fn?.Properties?.Environment as { Variables: object }).Variables)).not.toContain(
      'PREVIEW_JWT_JWKS_URL',
    );
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('jwtJwksUrl'));
  });

  it('an invalid stage fails before anything is built', () => {
    expect(() => synthesize({ stage: 'Prod' }, false)).toThrow(/Invalid CDK context "stage"/);
  });
});
