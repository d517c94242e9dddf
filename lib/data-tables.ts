import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { tableDefinitions, type TableDefinition } from '#adapters/aws/table-definitions.js';

export type TableName = TableDefinition['name'];

/** Item reads; no table management. Transactions are authorized by the actions of their items. */
export const tableReadActions = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
] as const;
export const tableWriteActions = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

export interface DataTablesProps {
  /** Keep the tables (and refuse their deletion) when the stack goes away. */
  readonly retain: boolean;
  /** Defaults to the service's `tableDefinitions`. */
  readonly definitions?: readonly TableDefinition[];
}

/** The service's DynamoDB tables, created from the same definitions the local runtime uses. */
export class DataTables extends Construct {
  readonly definitions: readonly TableDefinition[];
  private readonly byName = new Map<TableName, Table>();

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    this.definitions = props.definitions ?? tableDefinitions;

    for (const definition of this.definitions) {
      // Physical names are left to CloudFormation so a key change can replace the table; functions
      // get the names through their environment.
      const table = new Table(this, constructId(definition.name), {
        partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
        ...(definition.sortKey ? { sortKey: { name: definition.sortKey, type: AttributeType.STRING } } : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        ...(definition.ttlAttribute ? { timeToLiveAttribute: definition.ttlAttribute } : {}),
        removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        deletionProtection: props.retain,
      });
      for (const index of definition.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          ...(index.sortKey ? { sortKey: { name: index.sortKey, type: AttributeType.STRING } } : {}),
          projectionType: ProjectionType.ALL,
        });
      }
      this.byName.set(definition.name, table);
    }
  }

  table(name: TableName): Table {
    const table = this.byName.get(name);
    if (!table) throw new Error(`No table named "${name}" in this stack.`);
    return table;
  }

  /** Every table with its definition, in definition order. */
  entries(): { definition: TableDefinition; table: Table }[] {
    return this.definitions.map((definition) => ({ definition, table: this.table(definition.name) }));
  }

  /** The environment variables that carry the physical table names to functions. */
  environment(): Record<string, string> {
    return Object.fromEntries(
      this.entries().map(({ definition, table }) => [definition.envVar, table.tableName]),
    );
  }

  /** Item reads, or reads and writes, on one table and its indexes (named, not `index/*`). */
  grant(grantee: IGrantable, name: TableName, access: 'read' | 'readwrite'): void {
    const table = this.table(name);
    const definition = this.definitions.find((d) => d.name === name);
    const indexes = (definition?.indexes ?? []).map((index) => `${table.tableArn}/index/${index.name}`);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: access === 'read' ? [...tableReadActions] : [...tableReadActions, ...tableWriteActions],
        resources: [table.tableArn, ...indexes],
      }),
    );
  }
}

/** `connections` → `ConnectionsTable`. */
function constructId(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}Table`;
}
