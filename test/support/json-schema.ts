/**
 * JSON Schema (draft-07) validation for tests, through Ajv. `test/fakes/openapi-validator.ts`
 * understands the OpenAPI 3.0 subset of JSON Schema only (no `patternProperties`, `if`/`then`,
 * `const`, `dependencies`, `not` or type arrays, all of which GitLab's CI schema uses), so a real
 * validator is used here.
 *
 * Loaded with `require` and typed by the small interface below, so the same code runs with Ajv 6
 * (present today as a dependency of ESLint) and Ajv 8 (`ajv` as a devDependency of its own): the
 * options given are understood by both, and errors carry `instancePath` (8) or `dataPath` (6).
 */
import { createRequire } from 'node:module';

interface AjvError {
  readonly instancePath?: string;
  readonly dataPath?: string;
  readonly message?: string;
  readonly params?: unknown;
}

interface ValidateFunction {
  (data: unknown): boolean;
  errors?: AjvError[] | null;
}

interface AjvInstance {
  compile(schema: object): ValidateFunction;
}

type AjvConstructor = new (options: Record<string, unknown>) => AjvInstance;

/** Compiles `schema`; the function returns one line per problem, empty when `value` is valid. */
export function compileJsonSchema(schema: object): (value: unknown) => string[] {
  const require = createRequire(import.meta.url);
  const loaded = require('ajv') as AjvConstructor | { default: AjvConstructor };
  const Ajv = 'default' in loaded ? loaded.default : loaded;
  const ajv = new Ajv({
    allErrors: true,
    // Ajv 8: annotation keywords such as GitLab's `markdownDescription` are not errors.
    strict: false,
    // Formats (uri, regex, …) are hints for editors here, not rules GitLab enforces on load.
    validateFormats: false,
    // Ajv 6 spelling of the same.
    format: false,
    unknownFormats: 'ignore',
  });
  const validate = ajv.compile(schema);
  return (value) => {
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath ?? e.dataPath ?? ''} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
    );
  };
}
