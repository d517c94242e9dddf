import type { ApiDiff } from './api-schemas.js';
import {
  fingerprint,
  httpMethods,
  isObject,
  modelName,
  ReferenceGraph,
  resolve,
  typeLabel,
  type OpenApiDocument,
} from './openapi-schema.js';

type Endpoints = ApiDiff['endpoints'];
type Models = ApiDiff['models'];
type ModelChange = Models['modified'][number];
type FieldChange = ModelChange['fields']['changed'][number];
type EndpointPart = Endpoints['modified'][number]['changes'][number];

/**
 * What changed from one version of an API to another: endpoints by method and path, models by
 * `components.schemas`. Wording (titles, descriptions, examples) and order are not changes.
 */
export function diffOpenApi(base: OpenApiDocument, other: OpenApiDocument): ApiDiff {
  return { endpoints: diffEndpoints(base, other), models: diffModels(base, other) };
}

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly parts: Readonly<Record<EndpointPart, unknown>>;
}

function operations(document: OpenApiDocument): Map<string, Operation> {
  const found = new Map<string, Operation>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of httpMethods) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const parts = {
        parameters: parameters(document, item.parameters, operation.parameters),
        requestBody: operation.requestBody,
        responses: operation.responses,
      };
      found.set(`${method} ${path}`, { method: method.toUpperCase(), path, parts });
    }
  }
  return found;
}

/** Path-level and operation-level parameters by location and name; the operation's win. */
function parameters(document: OpenApiDocument, ...lists: unknown[]): Record<string, unknown> {
  const byKey: Record<string, unknown> = {};
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const parameter of list) {
      const ref = isObject(parameter) && typeof parameter.$ref === 'string' ? parameter.$ref : undefined;
      const target = ref === undefined ? parameter : resolve(document, ref);
      const key = isObject(target) ? `${String(target.in)}:${String(target.name)}` : String(ref);
      byKey[key] = parameter;
    }
  }
  return byKey;
}

const methodOrder = (method: string) =>
  httpMethods.indexOf(method.toLowerCase() as (typeof httpMethods)[number]);
const byPathThenMethod = (a: Operation, b: Operation) =>
  a.path.localeCompare(b.path) || methodOrder(a.method) - methodOrder(b.method);

function diffEndpoints(base: OpenApiDocument, other: OpenApiDocument): Endpoints {
  const before = operations(base);
  const after = operations(other);
  const graph = new ReferenceGraph(base, other);
  const only = (from: Map<string, Operation>, not: Map<string, Operation>) =>
    [...from]
      .filter(([key]) => !not.has(key))
      .map(([, op]) => op)
      .sort(byPathThenMethod)
      .map(({ method, path }) => ({ method, path }));
  const modified: Endpoints['modified'] = [];
  for (const [key, was] of [...before].sort(([, a], [, b]) => byPathThenMethod(a, b))) {
    const now = after.get(key);
    if (!now) continue;
    const models = new Set<string>();
    const changes = (Object.keys(was.parts) as EndpointPart[]).filter((part) => {
      const reached = graph.changesReachedFrom(was.parts[part], now.parts[part]);
      for (const ref of reached) {
        const name = modelName(ref);
        if (name !== undefined) models.add(name);
      }
      return reached.length > 0 || fingerprint(was.parts[part]) !== fingerprint(now.parts[part]);
    });
    if (changes.length > 0)
      modified.push({ method: was.method, path: was.path, changes, models: [...models].sort() });
  }
  return { added: only(after, before), removed: only(before, after), modified };
}

function schemasOf(document: OpenApiDocument): Readonly<Record<string, unknown>> {
  const components = document.components;
  return isObject(components) && isObject(components.schemas) ? components.schemas : {};
}

function diffModels(base: OpenApiDocument, other: OpenApiDocument): Models {
  const before = schemasOf(base);
  const after = schemasOf(other);
  const names = (from: object, not: object) => Object.keys(from).filter((name) => !Object.hasOwn(not, name));
  const modified = Object.keys(before)
    .filter((name) => Object.hasOwn(after, name) && fingerprint(before[name]) !== fingerprint(after[name]))
    .sort()
    .map((name) => diffModel(name, flatten(base, before[name]), flatten(other, after[name])))
    .filter(
      ({ fields, definitionChanged }) => definitionChanged || Object.values(fields).some((f) => f.length),
    );
  return { added: names(after, before).sort(), removed: names(before, after).sort(), modified };
}

interface FlatModel {
  readonly properties: Readonly<Record<string, unknown>>;
  readonly required: ReadonlySet<string>;
  /** Everything else of the definition. */
  readonly rest: Readonly<Record<string, unknown>>;
}

/** A model with the members of its `allOf` (inline or referenced) merged into it. */
function flatten(document: OpenApiDocument, schema: unknown, seen = new Set<string>()): FlatModel {
  if (!isObject(schema)) return { properties: {}, required: new Set(), rest: {} };
  const { properties, required, allOf, ...rest } = schema;
  let flat: FlatModel = {
    properties: isObject(properties) ? properties : {},
    required: new Set(Array.isArray(required) ? required.map(String) : []),
    rest,
  };
  for (const member of Array.isArray(allOf) ? allOf : []) {
    const ref = isObject(member) && typeof member.$ref === 'string' ? member.$ref : undefined;
    if (ref !== undefined && seen.has(ref)) continue;
    const inherited = flatten(
      document,
      ref === undefined ? member : resolve(document, ref),
      ref === undefined ? seen : new Set([...seen, ref]),
    );
    flat = {
      properties: { ...inherited.properties, ...flat.properties },
      required: new Set([...inherited.required, ...flat.required]),
      rest: { ...inherited.rest, ...flat.rest },
    };
  }
  return flat;
}

function diffModel(name: string, was: FlatModel, now: FlatModel): ModelChange {
  const field = (model: FlatModel, fieldName: string) => ({
    type: typeLabel(model.properties[fieldName]),
    required: model.required.has(fieldName),
  });
  const summary = (model: FlatModel) => (fieldName: string) => ({
    name: fieldName,
    ...field(model, fieldName),
  });
  const beforeNames = Object.keys(was.properties);
  const afterNames = Object.keys(now.properties);
  const changed: FieldChange[] = [];
  for (const fieldName of beforeNames.filter((f) => Object.hasOwn(now.properties, f))) {
    const from = field(was, fieldName);
    const to = field(now, fieldName);
    const changes: FieldChange['changes'] = [];
    if (from.type !== to.type) changes.push('type');
    if (from.required !== to.required) changes.push('required');
    const schemaDiffers = fingerprint(was.properties[fieldName]) !== fingerprint(now.properties[fieldName]);
    if (from.type === to.type && schemaDiffers) changes.push('constraints');
    if (changes.length > 0) changed.push({ name: fieldName, changes, from, to });
  }
  return {
    name,
    fields: {
      added: afterNames.filter((f) => !Object.hasOwn(was.properties, f)).map(summary(now)),
      removed: beforeNames.filter((f) => !Object.hasOwn(now.properties, f)).map(summary(was)),
      changed,
    },
    definitionChanged: fingerprint(was.rest) !== fingerprint(now.rest),
  };
}
