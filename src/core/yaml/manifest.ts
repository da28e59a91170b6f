import { UserError, type SourceLocation } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../objects.ts';
import { parseYamlDocuments, type YamlDocument } from './yaml.ts';

/** Where a rendered object came from, for messages and annotations. */
export interface Provenance extends SourceLocation {
  /** For generated output: how (`kustomize`, `helm release web`). */
  readonly via?: string;
}

export interface Manifest {
  readonly object: KubeObject;
  readonly source: Provenance;
  /** Line of a key path in the source document, when known (plain files only). */
  readonly keyLine?: (keyPath: string) => number | undefined;
  /** Namespace for a namespaced object that names none (a Helm release's target namespace). */
  readonly defaultNamespace?: string;
  /**
   * The most specific known source of one field of the object (its path, e.g. `['spec',
   * 'replicas']`): the patch or values line that set it; undefined when only the object is known.
   * `previous` is the field's live value, for renderers that trace what changed (helm values).
   */
  readonly fieldSource?: (field: readonly string[], previous?: unknown) => Provenance | undefined;
}

/**
 * Where a field of a rendered object comes from, most specific first: the renderer's answer (patch
 * file line, values line), the line of the field (or its nearest parent) in a plain file, else the
 * object's own location.
 */
export function fieldProvenance(
  manifest: Manifest,
  field: readonly string[],
  previous?: unknown,
): Provenance {
  const traced = manifest.fieldSource?.(field, previous);
  if (traced) return traced;
  for (let depth = field.length; depth > 0 && manifest.keyLine; depth--) {
    const line = manifest.keyLine(field.slice(0, depth).join('.'));
    if (line !== undefined) return { ...manifest.source, line };
  }
  return manifest.source;
}

/** A problem found while reading or checking manifests; never thrown, always collected. */
export interface Finding {
  readonly severity: 'error' | 'warning';
  readonly location: Provenance;
  readonly message: string;
  /** Stable id of the rule, for docs and tests. */
  readonly rule: string;
}

export interface ParsedManifests {
  readonly manifests: Manifest[];
  readonly findings: Finding[];
}

/**
 * Turns one YAML/JSON text into manifests. Syntax errors and documents that are not objects become
 * findings with file and line; a `kind: List` is expanded into its items.
 */
export function parseManifests(text: string, file: string, via?: string): ParsedManifests {
  const manifests: Manifest[] = [];
  const findings: Finding[] = [];
  let documents: YamlDocument[];
  try {
    documents = parseYamlDocuments(text, file, { kubectl: true });
  } catch (error) {
    if (error instanceof UserError) {
      findings.push({
        severity: 'error',
        rule: 'yaml-syntax',
        location: { ...(error.location ?? { file, line: 0 }), ...(via ? { via } : {}) },
        message: `${error.message}${error.hint ? ` (${error.hint})` : ''}`,
      });
      return { manifests, findings };
    }
    throw error;
  }
  for (const document of documents) {
    const location: Provenance = via ? { file, line: document.line, via } : { file, line: document.line };
    const value = document.value;
    if (value === null || value === undefined) continue; // an empty document between `---` lines
    for (const warning of document.warnings ?? []) {
      findings.push({
        severity: 'warning',
        rule: 'yaml-precision',
        location: { ...location, line: warning.line },
        message: warning.message,
      });
    }
    const keyLine = (keyPath: string): number | undefined => document.keyLines.get(keyPath);
    addObject(value, location, keyLine, manifests, findings);
  }
  return { manifests, findings };
}

function addObject(
  value: unknown,
  location: Provenance,
  keyLine: (keyPath: string) => number | undefined,
  manifests: Manifest[],
  findings: Finding[],
): void {
  if (!isPlainObject(value)) {
    findings.push({
      severity: 'error',
      rule: 'not-an-object',
      location,
      message: `this document is ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}, not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)`,
    });
    return;
  }
  if (value.kind === 'List' && Array.isArray(value.items)) {
    for (const item of value.items) addObject(item, location, () => undefined, manifests, findings);
    return;
  }
  const problems = structureProblems(value);
  if (problems.length > 0) {
    for (const problem of problems) {
      findings.push({
        severity: 'error',
        rule: problem.rule,
        location: { ...location, line: keyLine(problem.key) ?? location.line },
        message: problem.message,
      });
    }
    return;
  }
  manifests.push({ object: value as KubeObject, source: location, keyLine });
}

function structureProblems(value: Record<string, unknown>): { rule: string; key: string; message: string }[] {
  const problems: { rule: string; key: string; message: string }[] = [];
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') {
    problems.push({
      rule: 'missing-api-version',
      key: 'apiVersion',
      message: 'missing `apiVersion` (e.g. `apiVersion: v1` or `apps/v1`)',
    });
  } else if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(value.apiVersion)) {
    problems.push({
      rule: 'invalid-api-version',
      key: 'apiVersion',
      message: `invalid apiVersion "${value.apiVersion}" (expected group/version such as apps/v1)`,
    });
  }
  if (typeof value.kind !== 'string' || value.kind === '') {
    problems.push({ rule: 'missing-kind', key: 'kind', message: 'missing `kind` (e.g. `kind: ConfigMap`)' });
  } else if (!/^[A-Z][A-Za-z0-9]*$/.test(value.kind)) {
    problems.push({
      rule: 'invalid-kind',
      key: 'kind',
      message: `invalid kind "${value.kind}" (kinds are CamelCase, e.g. ConfigMap)`,
    });
  }
  const metadata = value.metadata;
  if (!isPlainObject(metadata)) {
    problems.push({ rule: 'missing-name', key: 'metadata', message: 'missing `metadata.name`' });
  } else if (typeof metadata.name !== 'string' || metadata.name === '') {
    problems.push({
      rule: 'missing-name',
      key: 'metadata',
      message:
        typeof metadata.generateName === 'string'
          ? '`metadata.generateName` cannot be applied declaratively: give the object a fixed `metadata.name`'
          : 'missing `metadata.name`',
    });
  } else if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') {
    problems.push({
      rule: 'invalid-namespace',
      key: 'metadata.namespace',
      message: '`metadata.namespace` must be a string',
    });
  }
  if (isPlainObject(metadata)) problems.push(...stringMapProblems(metadata));
  return problems;
}

// kubectl decodes metadata into its typed form and refuses a label or annotation that is not a
// string; read as YAML 1.1, `yes`, `on`, `0400` or `1.10` are not. Said here, with the line.
function stringMapProblems(
  metadata: Record<string, unknown>,
): { rule: string; key: string; message: string }[] {
  const problems: { rule: string; key: string; message: string }[] = [];
  for (const field of ['labels', 'annotations'] as const) {
    const map = metadata[field];
    if (!isPlainObject(map)) continue;
    for (const [key, value] of Object.entries(map)) {
      if (typeof value === 'string' || value === null) continue;
      problems.push({
        rule: 'metadata-not-string',
        key: `metadata.${field}.${key}`,
        message: `${field === 'labels' ? 'label' : 'annotation'} "${key}" is ${describeValue(value)}, not a string: kubectl refuses it too (YAML 1.1 reads yes/no/on/off and numbers as non-strings); quote the value`,
      });
    }
  }
  return problems;
}

function describeValue(value: unknown): string {
  if (typeof value === 'boolean' || typeof value === 'number') return `the ${typeof value} ${String(value)}`;
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}
