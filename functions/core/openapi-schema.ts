/**
 * Reading OpenAPI documents to compare them: a canonical form that ignores wording and order,
 * local references, and short names for field types.
 */

/** An OpenAPI 3 document as an app serves it: only `paths` is required. */
export interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly [key: string]: unknown;
}

export const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type JsonObject = Readonly<Record<string, unknown>>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys that document a contract without changing it. */
const documentationKeys = new Set(['title', 'description', 'summary', 'example', 'examples', 'externalDocs']);
/** Keys whose value maps names the author chose (a field called `description`) to definitions. */
const nameMaps = new Set(['properties', 'patternProperties', 'headers', 'encoding', 'links', 'callbacks']);
/** Arrays whose order means nothing. */
const unorderedKeys = new Set(['required', 'type']);

function canonical(value: unknown, keysAreNames = false): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item));
  if (!isObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const child = value[key];
    if (keysAreNames) result[key] = canonical(child);
    else if (documentationKeys.has(key)) continue;
    else if (unorderedKeys.has(key) && Array.isArray(child)) result[key] = [...child].map(String).sort();
    else result[key] = canonical(child, nameMaps.has(key));
  }
  return result;
}

/** Equal for two parts of a contract that differ only in wording or order. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(canonical(value)) ?? 'undefined';
}

/** Every `$ref` inside a value. */
export function referencesIn(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencesIn(item, found);
  else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.add(child);
      else referencesIn(child, found);
    }
  }
  return found;
}

function pointerSegments(ref: string): string[] {
  return ref
    .slice(2)
    .split('/')
    .map((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // A malformed escape in the app's document names nothing; keep the segment as written.
      }
      return decoded.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** The target of a local reference (`#/components/schemas/Todo`); undefined for any other. */
export function resolve(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node = document;
  for (const segment of pointerSegments(ref)) {
    const container = typeof node === 'object' && node !== null ? (node as Record<string, unknown>) : {};
    node = Object.hasOwn(container, segment) ? container[segment] : undefined;
  }
  return node;
}

const schemaPrefix = '#/components/schemas/';

/** The model name of a schema reference, or undefined for another kind of reference. */
export function modelName(ref: string): string | undefined {
  return ref.startsWith(schemaPrefix) ? pointerSegments(ref).at(-1) : undefined;
}

/** A short name for a field's type: `integer`, `string(date-time)`, `array<Todo>`, `integer | null`. */
export function typeLabel(schema: unknown): string {
  if (!isObject(schema)) return 'any';
  if (typeof schema.$ref === 'string') return pointerSegments(schema.$ref).at(-1) ?? 'any';
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) return [...new Set(union.map(typeLabel))].join(' | ');
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1) return typeLabel(schema.allOf[0]);
  const types = Array.isArray(schema.type)
    ? schema.type.map(String)
    : [schema.type].filter(Boolean).map(String);
  if (types.length === 0) return schema.enum ? 'enum' : isObject(schema.properties) ? 'object' : 'any';
  const labels = types.map((type) => {
    if (type === 'array') return `array<${typeLabel(schema.items)}>`;
    return typeof schema.format === 'string' && type !== 'null' ? `${type}(${schema.format})` : type;
  });
  return [...labels, ...(schema.nullable === true ? ['null'] : [])].join(' | ');
}

/**
 * References followed through both documents. A reference has changed when its target differs
 * between them (or exists in one only); a change to `Todo` is reached from every endpoint whose
 * response holds a list of them.
 */
export class ReferenceGraph {
  private readonly targets = new Map<string, { changed: boolean; next: Set<string> }>();

  constructor(
    private readonly base: unknown,
    private readonly other: unknown,
  ) {}

  /** The changed references reachable from the values, sorted. */
  changesReachedFrom(...values: unknown[]): string[] {
    const seen = new Set<string>();
    const changed: string[] = [];
    const pending = values.flatMap((value) => [...referencesIn(value)]);
    for (let ref = pending.pop(); ref !== undefined; ref = pending.pop()) {
      if (seen.has(ref)) continue;
      seen.add(ref);
      const target = this.target(ref);
      if (target.changed) changed.push(ref);
      pending.push(...target.next);
    }
    return changed.sort();
  }

  private target(ref: string) {
    let target = this.targets.get(ref);
    if (!target) {
      const before = resolve(this.base, ref);
      const after = resolve(this.other, ref);
      target = {
        changed: fingerprint(before) !== fingerprint(after),
        next: referencesIn(after, referencesIn(before)),
      };
      this.targets.set(ref, target);
    }
    return target;
  }
}
