import { readFile } from 'node:fs/promises';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { generatedTypes, generatedTypesPath } from '../../client/scripts/generated-types.js';

/**
 * The success answers of `operations` (in `source`, generated types) whose body type is `never` or
 * `unknown`, as `<operationId> <status>`, found by the TypeScript checker itself.
 */
function vagueSuccessAnswers(source: string): string[] {
  const check = `
    import type { operations } from './openapi.js';
    type Success = 200 | 201 | 202 | 203 | 204 | 206 | 301 | 302 | 303 | 307 | 308;
    type Bodies<R> = { [S in keyof R & Success]: R[S] extends { content: infer C } ? C[keyof C] : never };
    type IsVague<T> = [T] extends [never] ? true : unknown extends T ? true : false;
    type VagueOf<Op extends keyof operations> = {
      [S in keyof Bodies<operations[Op]['responses']>]: IsVague<Bodies<operations[Op]['responses']>[S]> extends true
        ? \`\${Op & string} \${S & number}\`
        : never;
    }[keyof Bodies<operations[Op]['responses']>];
    export type Vague = { [Op in keyof operations]: VagueOf<Op> }[keyof operations];
  `;
  const files = new Map([
    ['/check.ts', check],
    ['/openapi.ts', source],
  ]);
  const options: ts.CompilerOptions = {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noLib: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = (name: string) => files.get(name.replace(/\.js$/, '.ts'));
  host.fileExists = (name) => read(name) !== undefined;
  host.readFile = read;
  host.getSourceFile = (name, version) => {
    const text = read(name);
    return text === undefined ? undefined : ts.createSourceFile(name, text, version);
  };
  const program = ts.createProgram(['/check.ts'], options, host);
  const checker = program.getTypeChecker();
  const checkFile = program.getSourceFile('/check.ts');
  const vague = checkFile?.statements.find(
    (statement): statement is ts.TypeAliasDeclaration =>
      ts.isTypeAliasDeclaration(statement) && statement.name.text === 'Vague',
  );
  if (!vague) throw new Error('the check has no Vague type');
  const type = checker.getTypeAtLocation(vague.name);
  const members = type.isUnion() ? type.types : [type];
  return members
    .filter((member): member is ts.StringLiteralType => member.isStringLiteral())
    .map((member) => member.value)
    .sort();
}

describe("the client's generated types", () => {
  it('match the OpenAPI document the service serves (else run `npm run generate:client`)', async () => {
    expect(await readFile(generatedTypesPath, 'utf8')).toBe(await generatedTypes());
  });

  it('have a concrete type for every success answer: none is never or unknown', async () => {
    expect(vagueSuccessAnswers(await generatedTypes())).toEqual([]);
  });

  it('would name an answer without a body schema', () => {
    const withoutSchema = `
      export interface operations {
        'described': { responses: { 200: { headers: {}; content: { 'application/json': { id: string } } } } };
        'bare': { responses: { 200: { headers: {}; content?: never }; 404: { headers: {}; content?: never } } };
        'anything': { responses: { 202: { headers: {}; content: { 'application/json': unknown } } } };
      }`;
    expect(vagueSuccessAnswers(withoutSchema)).toEqual(['anything 202', 'bare 200']);
  });
});
