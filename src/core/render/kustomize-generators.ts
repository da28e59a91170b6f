import path from 'node:path';
import { isPlainObject, type KubeObject } from '../objects.ts';
import type { KustomizeOrigin } from './kustomize-origins.ts';
import type { SourceFiles } from './source-files.ts';

const GENERATORS = ['configMapGenerator', 'secretGenerator'];

/** A generator's entry (`- name: web-config`) whose name the rendered (hashed, prefixed) name holds. */
export function generatorEntry(
  files: SourceFiles,
  kustomization: string,
  object: KubeObject,
): { file: string; line: number; entry: Record<string, unknown>; key: string; index: number } | undefined {
  const document = files.get(kustomization)?.documents[0];
  const spec = document?.value;
  if (!document || !isPlainObject(spec)) return undefined;
  const name = object.metadata.name ?? '';
  let best:
    { file: string; line: number; entry: Record<string, unknown>; key: string; index: number } | undefined;
  for (const key of GENERATORS) {
    if ((key === 'secretGenerator') !== (object.kind === 'Secret')) continue;
    const list = spec[key];
    if (!Array.isArray(list)) continue;
    list.forEach((entry, index) => {
      if (!isPlainObject(entry) || typeof entry.name !== 'string' || !name.includes(entry.name)) return;
      if (best && String(best.entry.name).length >= entry.name.length) return;
      const line = document.keyLines.get(`${key}.${index}.name`) ?? 0;
      best = { file: kustomization, line, entry, key, index };
    });
  }
  return best;
}

/** A generated ConfigMap/Secret key: the literal, env line or file that the last generator gave it. */
export function generatedDataLine(
  files: SourceFiles,
  origin: KustomizeOrigin,
  object: KubeObject,
  field: readonly string[],
): { file: string; line: number } | undefined {
  if (field.length !== 2 || (field[0] !== 'data' && field[0] !== 'binaryData') || !origin.generator)
    return undefined;
  const key = field[1] ?? '';
  let found: { file: string; line: number } | undefined;
  for (const kustomization of [origin.generator.kustomization, ...origin.kustomizations]) {
    const generator = generatorEntry(files, kustomization, object);
    if (!generator) continue;
    const folder = path.posix.dirname(kustomization);
    const lines = files.get(kustomization)?.lines ?? [];
    const entry = generator.entry;
    const literals = Array.isArray(entry.literals) ? entry.literals : [];
    if (literals.some((l) => typeof l === 'string' && l.startsWith(`${key}=`))) {
      const from = generator.line;
      const at = lines.findIndex((text, i) => i >= from && text.includes(`${key}=`));
      found = { file: kustomization, line: at >= 0 ? at + 1 : generator.line };
    }
    for (const item of Array.isArray(entry.files) ? entry.files : []) {
      if (typeof item !== 'string') continue;
      const [named, file] = item.includes('=')
        ? [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)]
        : [path.posix.basename(item), item];
      if (named === key) found = { file: path.posix.normalize(path.posix.join(folder, file)), line: 0 };
    }
    const envs = [
      ...(Array.isArray(entry.envs) ? (entry.envs as unknown[]) : []),
      ...(typeof entry.env === 'string' ? [entry.env] : []),
    ];
    for (const env of envs) {
      if (typeof env !== 'string') continue;
      const file = path.posix.normalize(path.posix.join(folder, env));
      const at = (files.text(file) ?? '').split('\n').findIndex((text) => text.startsWith(`${key}=`));
      if (at >= 0) found = { file, line: at + 1 };
    }
  }
  return found;
}
