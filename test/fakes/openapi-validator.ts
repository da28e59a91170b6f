/**
 * Conformance with GitHub's published OpenAPI description (`@octokit/openapi`,
 * `generated/api.github.com.json`, OpenAPI 3.0.3 with internal `$ref`s): finds the operation a
 * request addresses, checks its path and query parameters and JSON body, and produces response
 * bodies that satisfy the operation's response schema.
 *
 * The JSON-Schema subset understood is what the description uses: type, nullable, $ref, enum,
 * properties, required, additionalProperties, items, oneOf, anyOf, allOf, min/maxLength, pattern,
 * min/maxItems, uniqueItems, minimum, maximum, maxProperties, format (date-time and date are
 * checked). Any other keyword is reported as a violation rather than silently ignored, so a newer
 * description cannot quietly weaken the checks.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export type Schema = { readonly [keyword: string]: unknown };

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
  readonly schema?: Schema;
  readonly 'x-multi-segment'?: boolean;
}

export interface Operation {
  readonly operationId: string;
  readonly parameters?: readonly (Parameter | Schema)[];
  readonly requestBody?:
    { readonly required?: boolean; readonly content?: Record<string, { schema?: Schema }> } | Schema;
  readonly responses: Record<string, Schema>;
}

interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: Record<string, Record<string, unknown>>;
}

export interface OperationMatch {
  readonly operation: Operation;
  readonly operationId: string;
  readonly template: string;
  /** Path parameters, already converted to their schema type (integers as numbers). */
  readonly pathParams: Readonly<Record<string, string | number>>;
  /** Query parameters, converted to their schema type. */
  readonly query: Readonly<Record<string, string | number | boolean>>;
}

export interface RequestCheck {
  readonly match: OperationMatch | undefined;
  /** Why the request breaks the description; empty when it conforms. */
  readonly reasons: readonly string[];
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** Keywords that describe rather than constrain. */
const ANNOTATIONS = new Set([
  'description',
  'title',
  'example',
  'examples',
  'default',
  'readOnly',
  'writeOnly',
  'deprecated',
  'externalDocs',
  'discriminator',
  'xml',
]);

const UNDERSTOOD = new Set([
  '$ref',
  'type',
  'nullable',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'oneOf',
  'anyOf',
  'allOf',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'minimum',
  'maximum',
  'maxProperties',
  'format',
]);

let cachedDocument: Document | undefined;

/** Reads the api.github.com description once per process (13 MB, about 0.1 s). */
export function loadGitHubDescription(): Document {
  if (!cachedDocument) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
    cachedDocument = JSON.parse(readFileSync(file, 'utf8')) as Document;
  }
  return cachedDocument;
}

interface Route {
  readonly template: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  /** Literal characters: the more, the more specific (`/issues/comments` beats `/issues/{n}`). */
  readonly literalLength: number;
  readonly operations: Record<string, Operation>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  const text = (JSON.stringify(value) as string | undefined) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export class OpenApiValidator {
  readonly #document: Document;
  readonly #routes: Route[];

  constructor(document: Document = loadGitHubDescription()) {
    this.#document = document;
    this.#routes = Object.entries(document.paths).map(([template, item]) =>
      this.#compileRoute(template, item),
    );
    this.#routes.sort((a, b) => b.literalLength - a.literalLength);
  }

  #compileRoute(template: string, item: Record<string, Operation>): Route {
    const operations: Record<string, Operation> = {};
    const multiSegment = new Set<string>();
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      operations[method] = operation;
      for (const parameter of this.#parameters(operation)) {
        if (parameter.in === 'path' && parameter['x-multi-segment'] === true)
          multiSegment.add(parameter.name);
      }
    }
    const names: string[] = [];
    let literalLength = 0;
    const source = template
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const name = /^\{([^}]+)\}$/.exec(part)?.[1];
        if (name === undefined) {
          literalLength += part.length;
          return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        }
        names.push(name);
        return multiSegment.has(name) ? '(.+)' : '([^/]+)';
      })
      .join('');
    return { template, pattern: new RegExp(`^${source}$`), names, literalLength, operations };
  }

  /** Follows a local `$ref` (`#/components/...`) until it reaches a value. */
  resolve<T>(value: T | Schema): T {
    let current: unknown = value;
    for (let depth = 0; isObject(current) && typeof current.$ref === 'string'; depth++) {
      if (depth > 20) throw new Error(`$ref loop at ${current.$ref}`);
      const ref = current.$ref;
      if (!ref.startsWith('#/')) throw new Error(`only local $ref is supported: ${ref}`);
      current = ref
        .slice(2)
        .split('/')
        .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
        .reduce<unknown>((node, token) => (isObject(node) ? node[token] : undefined), this.#document);
      if (current === undefined) throw new Error(`unresolved $ref ${ref}`);
    }
    return current as T;
  }

  #parameters(operation: Operation): Parameter[] {
    return (operation.parameters ?? []).map((parameter) => this.resolve<Parameter>(parameter));
  }

  /** The operation for `method` on `pathname`, or why there is none. */
  findOperation(
    method: string,
    pathname: string,
  ): { match?: { route: Route; operation: Operation; values: string[] }; reason?: string } {
    const lower = method.toLowerCase();
    let pathKnown = false;
    for (const route of this.#routes) {
      const found = route.pattern.exec(pathname);
      if (!found) continue;
      pathKnown = true;
      const operation = route.operations[lower];
      if (operation) return { match: { route, operation, values: found.slice(1) } };
    }
    return {
      reason: pathKnown
        ? `${method} is not an operation of any path template matching ${pathname}`
        : `no path template of the description matches ${pathname}`,
    };
  }

  /** Checks method, path, query and body of one request against the description. */
  checkRequest(method: string, url: URL, body: unknown, hasBody: boolean): RequestCheck {
    const found = this.findOperation(method, url.pathname);
    if (!found.match) return { match: undefined, reasons: [found.reason ?? 'unknown operation'] };
    const { route, operation, values } = found.match;
    const reasons: string[] = [];
    const parameters = this.#parameters(operation);

    const pathParams: Record<string, string | number> = {};
    route.names.forEach((name, index) => {
      const raw = decodeURIComponent(values[index] ?? '');
      const parameter = parameters.find((p) => p.in === 'path' && p.name === name);
      if (!parameter) {
        reasons.push(`path parameter ${name} is not declared by ${operation.operationId}`);
        return;
      }
      const converted = this.#convertParameter(parameter, raw, reasons, `path parameter ${name}`);
      if (converted !== undefined) pathParams[name] = converted as string | number;
    });

    const query: Record<string, string | number | boolean> = {};
    for (const [name, raw] of url.searchParams) {
      const parameter = parameters.find((p) => p.in === 'query' && p.name === name);
      if (!parameter) {
        reasons.push(`query parameter ${name} is not known to ${operation.operationId}`);
        continue;
      }
      const converted = this.#convertParameter(parameter, raw, reasons, `query parameter ${name}`);
      if (converted !== undefined) query[name] = converted as string | number | boolean;
    }
    for (const parameter of parameters) {
      if (parameter.in === 'query' && parameter.required === true && !url.searchParams.has(parameter.name)) {
        reasons.push(`required query parameter ${parameter.name} is missing`);
      }
    }

    const requestBody = operation.requestBody
      ? this.resolve<NonNullable<Operation['requestBody']>>(operation.requestBody)
      : undefined;
    if (!requestBody) {
      if (hasBody) reasons.push(`${operation.operationId} takes no request body`);
    } else if (!hasBody) {
      if (requestBody.required === true)
        reasons.push(`${operation.operationId} requires a JSON request body`);
    } else {
      const content = isObject(requestBody.content) ? requestBody.content : {};
      const media = content['application/json'] as { schema?: Schema } | undefined;
      if (!media?.schema) reasons.push(`${operation.operationId} does not take application/json`);
      else reasons.push(...this.validate(media.schema, body, 'body'));
    }

    return {
      match: { operation, operationId: operation.operationId, template: route.template, pathParams, query },
      reasons,
    };
  }

  #convertParameter(parameter: Parameter, raw: string, reasons: string[], label: string): unknown {
    const schema = parameter.schema ? this.resolve<Schema>(parameter.schema) : {};
    let value: unknown = raw;
    if (schema.type === 'integer' || schema.type === 'number') {
      if (!/^-?\d+(\.\d+)?$/.test(raw)) {
        reasons.push(`${label}: ${describe(raw)} is not a number`);
        return undefined;
      }
      value = Number(raw);
    } else if (schema.type === 'boolean') {
      if (raw !== 'true' && raw !== 'false') {
        reasons.push(`${label}: ${describe(raw)} is not a boolean`);
        return undefined;
      }
      value = raw === 'true';
    } else if (schema.type === 'array') {
      value = raw.split(',');
    }
    const problems = this.validate(schema, value, label);
    reasons.push(...problems);
    return problems.length === 0 ? value : undefined;
  }

  /** The schema of the response `status` of an operation, if it declares JSON content. */
  responseSchema(operation: Operation, status: number): Schema | undefined {
    const response = operation.responses[String(status)];
    if (!response) return undefined;
    const resolved = this.resolve<{ content?: Record<string, { schema?: Schema }> }>(response);
    return resolved.content?.['application/json']?.schema;
  }

  /** Checks `value` against `schema`; returns one line per problem, prefixed by its location. */
  validate(schema: Schema, value: unknown, at: string): string[] {
    const reasons: string[] = [];
    this.#validate(schema, value, at, reasons);
    return reasons;
  }

  #validate(schemaOrRef: Schema, value: unknown, at: string, reasons: string[]): void {
    const schema = this.resolve<Schema>(schemaOrRef);
    for (const keyword of Object.keys(schema)) {
      if (!UNDERSTOOD.has(keyword) && !ANNOTATIONS.has(keyword) && !keyword.startsWith('x-')) {
        reasons.push(`${at}: the fake's validator does not understand schema keyword ${keyword}`);
      }
    }
    if (value === null && schema.nullable === true) return;
    if (value === undefined) {
      reasons.push(`${at}: is undefined`);
      return;
    }

    const actual = typeOf(value);
    if (typeof schema.type === 'string') {
      const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
      if (!ok) {
        reasons.push(
          `${at}: expected ${schema.type}${schema.nullable === true ? ' or null' : ''}, got ${actual} ${describe(value)}`,
        );
        return;
      }
    } else if (value === null && schema.nullable !== true && !Array.isArray(schema.enum)) {
      if (schema.oneOf === undefined && schema.anyOf === undefined && schema.allOf === undefined) {
        reasons.push(`${at}: null is not allowed`);
        return;
      }
    }

    if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => allowed === value)) {
      reasons.push(
        `${at}: ${describe(value)} is not one of ${schema.enum.map((v) => describe(v)).join(', ')}`,
      );
    }

    if (typeof value === 'string') this.#validateString(schema, value, at, reasons);
    if (typeof value === 'number') {
      if (typeof schema.minimum === 'number' && value < schema.minimum)
        reasons.push(`${at}: ${value} is less than minimum ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && value > schema.maximum)
        reasons.push(`${at}: ${value} is more than maximum ${schema.maximum}`);
    }
    if (Array.isArray(value)) this.#validateArray(schema, value, at, reasons);
    if (isObject(value)) this.#validateObject(schema, value, at, reasons);

    if (Array.isArray(schema.allOf)) {
      for (const part of schema.allOf as Schema[]) this.#validate(part, value, at, reasons);
    }
    if (Array.isArray(schema.anyOf)) {
      const results = (schema.anyOf as Schema[]).map((part) => this.validate(part, value, at));
      if (!results.some((r) => r.length === 0)) {
        reasons.push(`${at}: matches none of anyOf (${results.map((r) => r[0] ?? '').join(' | ')})`);
      }
    }
    if (Array.isArray(schema.oneOf)) {
      const results = (schema.oneOf as Schema[]).map((part) => this.validate(part, value, at));
      const matching = results.filter((r) => r.length === 0).length;
      if (matching === 0)
        reasons.push(`${at}: matches none of oneOf (${results.map((r) => r[0] ?? '').join(' | ')})`);
      else if (matching > 1)
        reasons.push(`${at}: matches ${matching} branches of oneOf, exactly one is allowed`);
    }
  }

  #validateString(schema: Schema, value: string, at: string, reasons: string[]): void {
    const length = Array.from(value).length;
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
      reasons.push(`${at}: ${length} characters, more than maxLength ${schema.maxLength}`);
    }
    if (typeof schema.minLength === 'number' && length < schema.minLength) {
      reasons.push(`${at}: ${length} characters, fewer than minLength ${schema.minLength}`);
    }
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
      reasons.push(`${at}: ${describe(value)} does not match pattern ${schema.pattern}`);
    }
    if (
      schema.format === 'date-time' &&
      !(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
        !Number.isNaN(Date.parse(value))
      )
    ) {
      reasons.push(`${at}: ${describe(value)} is not an ISO 8601 date-time`);
    }
    if (schema.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
      reasons.push(`${at}: ${describe(value)} is not a date`);
    }
  }

  #validateArray(schema: Schema, value: readonly unknown[], at: string, reasons: string[]): void {
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      reasons.push(`${at}: ${value.length} items, more than maxItems ${schema.maxItems}`);
    }
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      reasons.push(`${at}: ${value.length} items, fewer than minItems ${schema.minItems}`);
    }
    if (
      schema.uniqueItems === true &&
      new Set(value.map((item) => JSON.stringify(item))).size !== value.length
    ) {
      reasons.push(`${at}: items are not unique`);
    }
    if (isObject(schema.items)) {
      const items = schema.items;
      value.forEach((item, index) => {
        this.#validate(items, item, `${at}[${index}]`, reasons);
      });
    }
  }

  #validateObject(schema: Schema, value: Record<string, unknown>, at: string, reasons: string[]): void {
    const properties = isObject(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
    if (Array.isArray(schema.required)) {
      for (const name of schema.required as string[]) {
        if (value[name] === undefined) reasons.push(`${at}: required property ${name} is missing`);
      }
    }
    if (typeof schema.maxProperties === 'number' && Object.keys(value).length > schema.maxProperties) {
      reasons.push(`${at}: more than maxProperties ${schema.maxProperties}`);
    }
    for (const [name, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const property = properties[name];
      if (property) this.#validate(property, item, `${at}.${name}`, reasons);
      else if (schema.additionalProperties === false) reasons.push(`${at}: property ${name} is not allowed`);
      else if (isObject(schema.additionalProperties))
        this.#validate(schema.additionalProperties, item, `${at}.${name}`, reasons);
    }
  }

  /**
   * The smallest value satisfying `schema`: required properties only, nullable ones null, the
   * first enum value or oneOf/anyOf branch, empty arrays. The fake overlays its state on this.
   */
  sample(schemaOrRef: Schema): unknown {
    const schema = this.resolve<Schema>(schemaOrRef);
    if (Array.isArray(schema.allOf)) {
      if (schema.nullable === true) return null;
      return (schema.allOf as Schema[]).reduce<unknown>(
        (merged, part) => overlay(merged, this.#sampleNonNull(part)),
        {},
      );
    }
    const branches = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
    if (schema.nullable === true) return null;
    if (branches?.[0]) return this.sample(branches[0]);
    if (Array.isArray(schema.enum)) return schema.enum[0];
    switch (schema.type) {
      case 'string':
        if (schema.format === 'date-time') return '2024-01-01T00:00:00Z';
        if (schema.format === 'date') return '2024-01-01';
        if (schema.format === 'uri') return 'https://github.invalid/';
        return 'x'.repeat(typeof schema.minLength === 'number' ? schema.minLength : 0);
      case 'integer':
      case 'number':
        return typeof schema.minimum === 'number' ? schema.minimum : 0;
      case 'boolean':
        return false;
      case 'array':
        return [];
      default: {
        const result: Record<string, unknown> = {};
        const properties = isObject(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
        for (const name of (schema.required ?? []) as string[]) {
          const property = properties[name];
          result[name] = property ? this.sample(property) : null;
        }
        return result;
      }
    }
  }

  /** A sample of a named component schema, ignoring its top-level `nullable` (to fill it in). */
  sampleComponent(name: string): Record<string, unknown> {
    return this.#sampleNonNull({ $ref: `#/components/schemas/${name}` }) as Record<string, unknown>;
  }

  #sampleNonNull(schemaOrRef: Schema): unknown {
    const copy: Record<string, unknown> = { ...this.resolve<Schema>(schemaOrRef) };
    delete copy.nullable;
    return this.sample(copy);
  }
}

/** Deep-merges `top` onto `base`: objects merge, everything else (arrays too) replaces. */
export function overlay(base: unknown, top: unknown): unknown {
  if (top === undefined) return base;
  if (!isObject(base) || !isObject(top)) return top;
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) result[key] = overlay(base[key], value);
  return result;
}
