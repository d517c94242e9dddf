import { CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DataTables } from './data-tables.js';
import { PreviewRestApi } from './rest-api.js';
import { serviceName } from './service-function.js';
import type { StageConfig } from './stage-config.js';

export interface PreviewServiceStackProps extends StackProps {
  readonly config: StageConfig;
}

export function stackName(stage: string): string {
  return `PreviewService-${stage}`;
}

/** One stage of the preview service. Environment-agnostic: synthesizes with no AWS account or lookups. */
export class PreviewServiceStack extends Stack {
  readonly config: StageConfig;
  readonly tables: DataTables;
  readonly restApi: PreviewRestApi;

  constructor(scope: Construct, id: string, props: PreviewServiceStackProps) {
    super(scope, id, {
      description: `Preview service (${props.config.stage}): builds, runs and monitors previews of generated backends`,
      ...props,
    });
    this.config = props.config;
    const { stage, production } = props.config;
    Tags.of(this).add('service', serviceName);
    Tags.of(this).add('stage', stage);

    this.tables = new DataTables(this, 'Tables', { retain: production });

    this.restApi = new PreviewRestApi(this, 'Rest', {
      stage,
      retainLogs: production,
      jwt: props.config.jwt,
      tables: this.tables,
    });

    new CfnOutput(this, 'RestApiUrl', {
      description: 'Base URL of the REST API stage (routes start with /api)',
      value: this.restApi.api.url,
    });
    for (const { definition, table } of this.tables.entries()) {
      new CfnOutput(this, `${definition.name.charAt(0).toUpperCase()}${definition.name.slice(1)}TableName`, {
        description: `Name of the ${definition.name} table (${definition.envVar})`,
        value: table.tableName,
      });
    }
  }
}
