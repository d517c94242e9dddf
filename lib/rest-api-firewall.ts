import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { AppError, errorBody } from '#core/errors.js';

export interface RestApiFirewallProps {
  readonly stage: string;
  /** The REST API stage to protect. */
  readonly stageArn: string;
  /** Requests per minute one Authorization header may make before it is answered 429. */
  readonly userRateLimitPerMinute: number;
}

/** WAF's rate-based rules count over a window of 60, 120, 300 or 600 seconds. */
const windowSeconds = 60;

/**
 * A regional WAF web ACL on the REST API stage: a rate-based rule keyed on the Authorization header, so
 * each user (each bearer token) gets its own budget, answered with the service's 429 shape and a
 * `Retry-After` of one window. Requests without the header (the OpenAPI document) are not counted.
 */
export class RestApiFirewall extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: RestApiFirewallProps) {
    super(scope, id);
    const metric = (name: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `preview-${props.stage}-${name}`,
    });
    const body = errorBody(
      new AppError(
        'rate_limited',
        `Too many requests: at most ${props.userRateLimitPerMinute} a minute per user. Retry after the time in Retry-After.`,
        { limit: props.userRateLimitPerMinute, windowSeconds },
      ),
    );
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name: `preview-${props.stage}-rest-api`,
      description: `Per-user rate limit of the preview service REST API - ${props.stage}`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: metric('rest-api'),
      customResponseBodies: {
        rateLimited: { contentType: 'APPLICATION_JSON', content: JSON.stringify(body) },
      },
      rules: [
        {
          name: 'PerUserRateLimit',
          priority: 0,
          statement: {
            rateBasedStatement: {
              limit: props.userRateLimitPerMinute,
              evaluationWindowSec: windowSeconds,
              aggregateKeyType: 'CUSTOM_KEYS',
              customKeys: [
                { header: { name: 'authorization', textTransformations: [{ priority: 0, type: 'NONE' }] } },
              ],
            },
          },
          action: {
            block: {
              customResponse: {
                responseCode: 429,
                customResponseBodyKey: 'rateLimited',
                responseHeaders: [{ name: 'Retry-After', value: String(windowSeconds) }],
              },
            },
          },
          visibilityConfig: metric('per-user-rate-limit'),
        },
      ],
    });
    new CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
