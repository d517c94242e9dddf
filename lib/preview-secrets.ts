import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeWildcardResource } from './nag-acknowledgements.js';
import { serviceName } from './service-function.js';

export interface PreviewSecretsProps {
  readonly stage: string;
  /** Keep the redaction lists (and their key) when the stack goes away: logs are retained too. */
  readonly retain: boolean;
}

/** A role, and the construct whose findings name its grants (the role itself, or its function). */
export interface SecretsGrantee {
  readonly role: IRole;
  readonly scope: IConstruct;
}

/**
 * Where previews' secrets live. Each preview's database password and secret-named variables are SSM
 * SecureString parameters under `<path>/<preview id>/`, written by the ECS runner before the task runs
 * and deleted when the preview stops; tasks get them through their definition's `secrets`. The values a
 * preview's logs must not show are kept in a table of redaction lists for as long as the logs are (TTL).
 * One customer-managed key encrypts both.
 */
export class PreviewSecrets extends Construct {
  /** `/preview-service/<stage>/secrets`. */
  readonly path: string;
  readonly key: Key;
  /** One item per preview: `{ previewId, secrets (string set), expiresAtEpoch }`. */
  readonly redactions: Table;

  constructor(scope: Construct, id: string, props: PreviewSecretsProps) {
    super(scope, id);
    this.path = `/${serviceName}/${props.stage}/secrets`;
    const removalPolicy = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.key = new Key(this, 'Key', {
      description: `Preview secrets and redaction lists (${props.stage})`,
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(7),
    });
    this.redactions = new Table(this, 'RedactionLists', {
      partitionKey: { name: 'previewId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      timeToLiveAttribute: 'expiresAtEpoch',
      removalPolicy,
      deletionProtection: props.retain,
    });
  }

  /** `arn:…:parameter/preview-service/<stage>/secrets/*`: every preview's parameters. */
  parameterArns(): string {
    return Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: `${this.path.slice(1)}/*`,
    });
  }

  /** What the ECS runner reads: where the parameters go, their key, the redaction lists. */
  environment(): Record<string, string> {
    return {
      PREVIEW_SECRETS_PATH: this.path,
      PREVIEW_SECRETS_KEY_ID: this.key.keyArn,
      PREVIEW_REDACTIONS_TABLE: this.redactions.tableName,
    };
  }

  /** ECS fetching a task's secrets when it starts it (the task execution role). */
  grantFetch({ role, scope }: SecretsGrantee): void {
    const parameters = this.parameterArns();
    role.addToPrincipalPolicy(
      new PolicyStatement({ sid: 'PreviewSecrets', actions: ['ssm:GetParameters'], resources: [parameters] }),
    );
    this.key.grantDecrypt(role);
    acknowledgeWildcardResource(
      scope,
      parameters,
      "Each preview's parameters are created at launch, all under this stage's secrets path.",
    );
  }

  /** Writing a preview's parameters and adding to its redaction list (launch). */
  grantWrite({ role, scope }: SecretsGrantee): void {
    this.grantDelete({ role, scope });
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ssm:PutParameter'], resources: [this.parameterArns()] }),
    );
    // SecureString parameters (SSM encrypts with the key) and the encrypted table (DynamoDB uses it both ways).
    this.key.grant(role, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [this.redactions.tableArn] }),
    );
  }

  /** Finding and deleting a preview's parameters (stop, failed launch). */
  grantDelete({ role, scope }: SecretsGrantee): void {
    const parameters = this.parameterArns();
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ssm:GetParametersByPath', 'ssm:DeleteParameters'],
        resources: [parameters],
      }),
    );
    acknowledgeWildcardResource(
      scope,
      parameters,
      "Each preview's parameters are named at launch, all under this stage's secrets path.",
    );
  }

  /** Reading redaction lists (the log read paths). */
  grantReadRedactions({ role }: Pick<SecretsGrantee, 'role'>): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [this.redactions.tableArn] }),
    );
    this.key.grantDecrypt(role);
  }
}
