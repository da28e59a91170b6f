import { UserError } from '../errors.ts';
import { parseManifests, type Manifest } from '../yaml/manifest.ts';
import { decryptSops, isSopsEncrypted } from './sops.ts';

/**
 * Decrypts every SOPS-encrypted object of a render in place, as Flux does after its build; the
 * values reach `onSecret` (the masker) before anything else can see them. An object that cannot be
 * decrypted is reported and dropped, never passed on with its ciphertext.
 */
export async function decryptManifests(
  manifests: Manifest[],
  ageKeys: readonly string[],
  onSecret: (value: string) => void,
  fail: (error: unknown, file: string) => void,
  readText: (file: string) => string | undefined,
): Promise<void> {
  const register = (value: string, path: readonly string[]): void => {
    if (isMaskable(value, path)) onSecret(value);
  };
  for (let i = manifests.length - 1; i >= 0; i--) {
    const manifest = manifests[i];
    if (!manifest || !isSopsEncrypted(manifest.object)) continue;
    try {
      let object;
      if (manifest.source.via === 'kustomize') {
        // kustomize sorted the keys, and the MAC follows the file's order: verify it on the file's
        // own document, then decrypt the built object value by value (each bound to its path).
        await decryptSops(sourceDocument(manifest, readText), ageKeys, manifest.source, register);
        object = await decryptSops(manifest.object, ageKeys, manifest.source, register, false);
      } else {
        object = await decryptSops(manifest.object, ageKeys, manifest.source, register);
      }
      manifests[i] = { ...manifest, object };
    } catch (error) {
      manifests.splice(i, 1);
      fail(error, manifest.source.file);
    }
  }
}

/** The document of the object's source file with the same SOPS MAC (unique per encryption). */
function sourceDocument(manifest: Manifest, readText: (file: string) => string | undefined): object {
  const mac = (manifest.object as { sops?: { mac?: unknown } }).sops?.mac;
  const text = readText(manifest.source.file);
  const found = text
    ? parseManifests(text, manifest.source.file).manifests.find(
        (m) => (m.object as { sops?: { mac?: unknown } }).sops?.mac === mac,
      )
    : undefined;
  if (!found) {
    throw new UserError(
      'render',
      'a SOPS-encrypted object built by kustomize cannot be traced to its file, so its MAC cannot be checked',
      {
        location: manifest.source,
        hint: 'keep the encrypted file a plain resource of the kustomization (not generated or patched into being)',
      },
    );
  }
  return found.object;
}

/** Shorter values would mask ordinary words in every output (the workspace's rule for Secrets). */
const MIN_MASKED_LENGTH = 8;

/**
 * A fully encrypted file also encrypts its kind and name: those are not secrets, and masking
 * "ConfigMap" everywhere would garble every plan.
 */
function isMaskable(value: string, path: readonly string[]): boolean {
  const top = path[0];
  return value.length >= MIN_MASKED_LENGTH && top !== 'apiVersion' && top !== 'kind' && top !== 'metadata';
}

/** The age identities in a key file's text (as age-keygen writes it: comments and keys). */
export function parseAgeKeys(text: string | undefined): string[] {
  return (text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('AGE-SECRET-KEY-'));
}
