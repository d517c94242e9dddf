import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintenanceParameterName } from '#lib/maintenance-switch.js';
import type { ServiceFunction } from '#lib/service-function.js';
import { preflightContentHandling } from '#lib/preflight-content-handling.js';
import { defaultConcurrency } from '#lib/stage-config.js';
import {
  actionsOf,
  cleanUp,
  devContext,
  logicalId,
  ofType,
  roleStatements,
  synthesize,
  type CfnResourceJson,
  type Synth,
} from './synth.js';

/** What operators rely on: the maintenance switch, CORS preflights, alarms on the service's own faults, concurrency. */

let synth: Synth;
let sized: Synth;
beforeAll(() => {
  synth = synthesize(devContext);
  sized = synthesize({ ...devContext, stage: 'sized', startPreviewConcurrency: 7, fanOutConcurrency: '9' });
}, 120_000);
afterAll(cleanUp);

const json = (value: unknown) => JSON.stringify(value);

function serviceFunction(s: Synth, name: string): ServiceFunction {
  const fn = name === 'authorizer' ? s.stack.restApi.authorizer.function : s.stack.functions.get(name);
  if (!fn) throw new Error(`no function ${name}`);
  return fn;
}
function fnResource(s: Synth, name: string): CfnResourceJson {
  return s.resources[logicalId(s.stack, serviceFunction(s, name).function)] as CfnResourceJson;
}
function alarm(s: Synth, name: string): CfnResourceJson {
  const found = ofType(s.resources, 'AWS::CloudWatch::Alarm').find(
    ([, a]) => a.Properties?.AlarmName === `preview-${s.stack.config.stage}-${name}`,
  );
  if (!found) throw new Error(`no alarm ${name}`);
  return found[1];
}

describe('maintenance switch', () => {
  const readers = ['launch-preview', 'start-preview', 'task-state-change', 'check-health', 'sweep-previews'];

  it('is an SSM parameter of the stage, created off, and named in the outputs', () => {
    const parameters = ofType(synth.resources, 'AWS::SSM::Parameter');
    expect(parameters).toHaveLength(1);
    expect(parameters[0]?.[1].Properties).toMatchObject({
      Name: '/preview/dev/maintenance',
      Type: 'String',
      Value: 'off',
    });
    expect(maintenanceParameterName('dev')).toBe('/preview/dev/maintenance');
    expect(synth.template.findOutputs('MaintenanceParameterName')).toMatchObject({
      MaintenanceParameterName: { Value: { Ref: logicalId(synth.stack, synth.stack.maintenance.parameter) } },
    });
  });

  it('is read (ssm:GetParameter on it alone) by the functions that launch or recover, and no other', () => {
    const parameterId = logicalId(synth.stack, synth.stack.maintenance.parameter);
    for (const name of [...synth.stack.functions.keys(), 'authorizer']) {
      const fn = serviceFunction(synth, name);
      // Launches also write and delete their secrets' parameters: only the switch's statements count.
      const statements = roleStatements(synth.resources, logicalId(synth.stack, fn.role)).filter(
        (s) =>
          actionsOf(s).some((action) => action.startsWith('ssm:')) &&
          json(s.Resource).includes(`{"Ref":"${parameterId}"}`),
      );
      const variables = (
        fnResource(synth, name).Properties?.Environment as { Variables: Record<string, unknown> }
      ).Variables;
      if (readers.includes(name)) {
        expect(statements, name).toHaveLength(1);
        expect(actionsOf(statements[0]!), name).toEqual(['ssm:GetParameter']);
        expect(variables.PREVIEW_MAINTENANCE_PARAMETER, name).toEqual({ Ref: parameterId });
      } else {
        expect(statements, name).toEqual([]);
        expect(variables.PREVIEW_MAINTENANCE_PARAMETER, name).toBeUndefined();
      }
    }
  });
});

describe('CORS preflights', () => {
  it('convert the request and the answer to text, which a MOCK integration needs when every type is binary', () => {
    synth.template.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: ['*/*'] });
    const preflights = ofType(synth.resources, 'AWS::ApiGateway::Method').filter(
      ([, method]) => method.Properties?.HttpMethod === 'OPTIONS',
    );
    expect(preflights.length).toBeGreaterThan(0);
    for (const [id, preflight] of preflights) {
      const integration = preflight.Properties?.Integration as {
        Type: string;
        ContentHandling?: string;
        IntegrationResponses: { ContentHandling?: string }[];
      };
      expect(integration.Type, id).toBe('MOCK');
      expect(integration.ContentHandling, id).toBe(preflightContentHandling);
      expect(integration.IntegrationResponses.length, id).toBeGreaterThan(0);
      for (const response of integration.IntegrationResponses) {
        expect(response.ContentHandling, id).toBe('CONVERT_TO_TEXT');
      }
    }
    // No route's own integration is touched.
    const routes = ofType(synth.resources, 'AWS::ApiGateway::Method').filter(
      ([, method]) => method.Properties?.HttpMethod !== 'OPTIONS',
    );
    for (const [id, route] of routes) {
      expect(
        (route.Properties?.Integration as { ContentHandling?: string }).ContentHandling,
        id,
      ).toBeUndefined();
    }
  });
});

describe('alarms on the service’s own faults', () => {
  it('launch failures: only those caused by the service', () => {
    const text = json(alarm(synth, 'launch-failures').Properties?.Metrics);
    expect(text).toContain('"MetricName":"ServiceLaunchFailures"');
    expect(text).not.toContain('"MetricName":"AppLaunchFailures"');
    expect(text).not.toContain('"MetricName":"LaunchFailures"');
  });

  it("5xx: the functions' own (ServerErrors), not API Gateway's 5XXError, which includes apps' answers", () => {
    const properties = alarm(synth, 'api-server-errors').Properties;
    expect(properties?.Threshold).toBe(10);
    const text = json(properties);
    expect(text).toContain('"MetricName":"ServerErrors","Namespace":"PreviewService"');
    expect(text).toContain('{"Name":"stage","Value":"dev"}');
    expect(text).not.toContain('5XXError');
  });

  it('the authorizer: its errors less its denials (401s are thrown, so Lambda counts them as errors)', () => {
    const text = json(alarm(synth, 'authorizer-failing').Properties?.Metrics);
    expect(text).toContain('FILL(authErrors, 0) - FILL(authDenials, 0)');
    expect(text).toContain('"MetricName":"AuthorizerDenials"');
    expect(text).toContain('"MetricName":"Errors"');
    expect(text).toContain('"MetricName":"Throttles"');
  });

  it('schedules run one at a time: their throttles are waiting runs, not failures', () => {
    for (const name of ['check-health', 'sweep-previews']) {
      const text = json(alarm(synth, `${name}-failing`).Properties?.Metrics);
      expect(text, name).toContain('"MetricName":"Errors"');
      expect(text, name).not.toContain('"MetricName":"Throttles"');
    }
    for (const name of ['start-preview', 'log-fan-out', 'launch-preview']) {
      expect(json(alarm(synth, `${name}-failing`).Properties?.Metrics), name).toContain(
        '"MetricName":"Throttles"',
      );
    }
  });

  it('the dashboard shows denials and faults, the service’s and the apps’ 5xx, failures by cause', () => {
    const body = json(
      ofType(synth.resources, 'AWS::CloudWatch::Dashboard')[0]?.[1].Properties?.DashboardBody,
    );
    for (const metric of [
      'AuthorizerDenials',
      'ServerErrors',
      'AppServerErrors',
      'ServiceLaunchFailures',
      'AppLaunchFailures',
      'LaunchFailures',
    ]) {
      expect(body).toContain(`\\"PreviewService\\",\\"${metric}\\"`);
    }
    expect(body).toContain('authorizer faults (errors that are not denials)');
    expect(body).toContain('MetricName=\\\\\\"ServerErrors\\\\\\"');
  });
});

describe('reserved concurrency', () => {
  const reserved = (s: Synth, name: string) => fnResource(s, name).Properties?.ReservedConcurrentExecutions;

  it('caps start-preview and log-fan-out at the stage defaults, and runs schedules one at a time', () => {
    expect(reserved(synth, 'start-preview')).toBe(defaultConcurrency.startPreview);
    expect(reserved(synth, 'log-fan-out')).toBe(defaultConcurrency.fanOut);
    expect(reserved(synth, 'check-health')).toBe(1);
    expect(reserved(synth, 'sweep-previews')).toBe(1);
    const others = [...synth.stack.functions.keys(), 'authorizer'].filter(
      (name) => !['start-preview', 'log-fan-out', 'check-health', 'sweep-previews'].includes(name),
    );
    for (const name of others) expect(reserved(synth, name), name).toBeUndefined();
  });

  it('takes the sizes from stage settings', () => {
    expect(reserved(sized, 'start-preview')).toBe(7);
    expect(reserved(sized, 'log-fan-out')).toBe(9);
    expect(reserved(sized, 'check-health')).toBe(1);
  });

  it('a run of a schedule may wait for the previous one (its timeout) before it counts as failed', () => {
    const configs = ofType(synth.resources, 'AWS::Lambda::EventInvokeConfig');
    for (const name of ['check-health', 'sweep-previews']) {
      const fnId = logicalId(synth.stack, synth.stack.functions.get(name)!.function);
      const config = configs.find(([, c]) => json(c.Properties?.FunctionName) === json({ Ref: fnId }))?.[1];
      const timeout = fnResource(synth, name).Properties?.Timeout as number;
      expect(config?.Properties?.MaximumEventAgeInSeconds as number, name).toBeGreaterThan(timeout);
    }
  });
});
