import { Aspects, type IAspect } from 'aws-cdk-lib';
import { CfnMethod, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { IConstruct } from 'constructs';

/** How the preflight integrations convert payloads. */
export const preflightContentHandling = 'CONVERT_TO_TEXT';

/**
 * CORS preflights are answered by MOCK integrations. With every media type binary (the REST API's
 * `binaryMediaTypes`), API Gateway treats every payload as binary, and a MOCK integration cannot apply its mapping template to a binary
 * payload: the preflight answers 500. Text conversion on the request and on the answer makes the
 * template apply. The RestApi construct builds these methods itself, so they are changed where they
 * end up, on every OPTIONS method with a MOCK integration.
 */
class PreflightAsText implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnMethod) || node.httpMethod !== 'OPTIONS') return;
    const integration = node.integration as CfnMethod.IntegrationProperty | undefined;
    if (integration?.type !== 'MOCK') return;
    node.addPropertyOverride('Integration.ContentHandling', preflightContentHandling);
    const responses = (integration.integrationResponses ?? []) as CfnMethod.IntegrationResponseProperty[];
    responses.forEach((_response, index) =>
      node.addPropertyOverride(
        `Integration.IntegrationResponses.${index}.ContentHandling`,
        preflightContentHandling,
      ),
    );
  }
}

export function convertPreflightsToText(api: RestApi): void {
  Aspects.of(api).add(new PreflightAsText());
  // Overrides are not part of the deployment's hash: name the change so the stage is redeployed with it.
  api.latestDeployment?.addToLogicalId({ preflightContentHandling });
}
