import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { launchRoutePath } from '#lib/rest-api.js';
import { nagFindings } from './checks.js';
import { cleanUp, devContext, jwtContext, logicalId, ofType, synthesize } from './synth.js';

afterAll(cleanUp);

describe('stage variants', () => {
  it('prod retains and protects its tables, buckets, repository and logs, with two NAT gateways', () => {
    const { resources, template, app } = synthesize({ stage: 'prod', ...jwtContext, natGateways: 2 });
    expect(nagFindings(app)).toEqual([]);
    for (const [, table] of ofType(resources, 'AWS::DynamoDB::Table')) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties?.DeletionProtectionEnabled).toBe(true);
    }
    for (const [, logGroup] of ofType(resources, 'AWS::Logs::LogGroup'))
      expect(logGroup.DeletionPolicy).toBe('Retain');
    expect(ofType(resources, 'AWS::ECR::Repository')[0]?.[1].DeletionPolicy).toBe('Retain');
    const retainedBuckets = ofType(resources, 'AWS::S3::Bucket').filter(
      ([, b]) => b.DeletionPolicy === 'Retain',
    );
    // Access logs and generations; build sources and exports are disposable.
    expect(retainedBuckets).toHaveLength(2);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  it('draining throttles the launch route to zero and leaves every other route alone', () => {
    const { template } = synthesize({ ...devContext, drainLaunches: 'true' });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: 'POST',
          ResourcePath: `/${launchRoutePath.replace(/\//g, '~1')}`,
          ThrottlingRateLimit: 0,
          ThrottlingBurstLimit: 0,
        }),
      ]),
    });
    const settings = ofType(template.toJSON().Resources, 'AWS::ApiGateway::Stage')[0]?.[1].Properties
      ?.MethodSettings as unknown[];
    expect(settings).toHaveLength(2);
  });

  it('databaseSnapshots=false turns snapshots off for every service function: launches migrate, config says so', () => {
    const { resources } = synthesize({ ...devContext, databaseSnapshots: 'false' });
    // The service's functions: the authorizer reads no service setting.
    const functions = ofType(resources, 'AWS::Lambda::Function').filter(
      ([, fn]) =>
        (fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables
          ?.PREVIEW_PUBLIC_URL,
    );
    expect(functions.length).toBeGreaterThan(0);
    for (const [id, fn] of functions) {
      const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.PREVIEW_DB_SNAPSHOTS, id).toBe('false');
    }
  });

  it("a web ACL from context is associated with the REST API stage instead of the stack's own", () => {
    const webAclArn = 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/previews/0123-abcd';
    const { template, stack, app } = synthesize({ ...devContext, webAclArn });
    expect(nagFindings(app)).toEqual([]);
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: webAclArn,
      ResourceArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    expect(JSON.stringify(template.toJSON())).toContain(logicalId(stack, stack.restApi.api.deploymentStage));
  });

  it('an alarm email subscribes to the alarm topic', () => {
    const { template } = synthesize({ ...devContext, alarmEmail: 'oncall@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  it('without an allowed origin there is no CORS preflight and no CORS header on errors', () => {
    const { resources } = synthesize({ stage: 'dev', ...jwtContext });
    expect(
      ofType(resources, 'AWS::ApiGateway::Method').filter(([, m]) => m.Properties?.HttpMethod === 'OPTIONS'),
    ).toEqual([]);
    expect(JSON.stringify(ofType(resources, 'AWS::ApiGateway::GatewayResponse'))).not.toContain(
      'Access-Control-Allow-Origin',
    );
  });

  it('without JWT context the authorizer gets no JWT settings and synth warns', () => {
    const { stack, resources } = synthesize({ stage: 'pr-7' });
    expect(stack.stackName).toBe('PreviewService-pr-7');
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
    const fn = resources[logicalId(stack, stack.restApi.authorizer.function.function)];
    expect(Object.keys((fn?.Properties?.Environment as { Variables: object }).Variables)).not.toContain(
      'PREVIEW_JWT_JWKS_URL',
    );
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('jwtJwksUrl'));
  });

  it('an invalid setting fails before anything is built', () => {
    expect(() => synthesize({ stage: 'Prod' })).toThrow(/Invalid CDK context "stage"/);
    expect(() => synthesize({ stage: 'dev', logRetentionDays: 10 })).toThrow(/"logRetentionDays"/);
  });
});
