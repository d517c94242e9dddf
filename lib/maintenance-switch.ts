import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { ParameterTier, StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { ServiceFunction } from './service-function.js';

export interface MaintenanceSwitchProps {
  readonly stage: string;
}

/** The parameter's name: fixed per stage, so operators and the runbook can name it. */
export function maintenanceParameterName(stage: string): string {
  return `/preview/${stage}/maintenance`;
}

/**
 * The stage's maintenance switch, an SSM parameter (`off`, or `on`) that operators set with
 * `aws ssm put-parameter`: no deploy. While it is on, launches answer 503 `maintenance`, nothing is
 * recovered, and each sweep stops every preview. The functions that launch or recover read it, at most
 * once per 30 s. The stack creates it `off`; CloudFormation writes it again only if its definition here
 * changes, so a deploy leaves an operator's setting alone.
 */
export class MaintenanceSwitch extends Construct {
  readonly parameter: StringParameter;

  constructor(scope: Construct, id: string, props: MaintenanceSwitchProps) {
    super(scope, id);
    this.parameter = new StringParameter(this, 'Parameter', {
      parameterName: maintenanceParameterName(props.stage),
      description: `Preview service (${props.stage}) maintenance: on stops launches, recoveries and every preview`,
      stringValue: 'off',
      tier: ParameterTier.STANDARD,
    });
  }

  /** What a function reads the switch from. */
  environment(): Record<string, string> {
    return { PREVIEW_MAINTENANCE_PARAMETER: this.parameter.parameterName };
  }

  /** Reading this one parameter, nothing else. */
  grantRead(fn: ServiceFunction): void {
    fn.addEnvironment(this.environment());
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [this.parameter.parameterArn] }),
    );
  }
}
