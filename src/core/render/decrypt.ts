import type { Manifest } from '../manifest.ts';
import { decryptSops, isSopsEncrypted } from '../sops.ts';

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
): Promise<void> {
  for (let i = manifests.length - 1; i >= 0; i--) {
    const manifest = manifests[i];
    if (!manifest || !isSopsEncrypted(manifest.object)) continue;
    try {
      const object = await decryptSops(manifest.object, ageKeys, manifest.source, onSecret);
      manifests[i] = { ...manifest, object };
    } catch (error) {
      manifests.splice(i, 1);
      fail(error, manifest.source.file);
    }
  }
}

/** The age identities in a key file's text (as age-keygen writes it: comments and keys). */
export function parseAgeKeys(text: string | undefined): string[] {
  return (text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('AGE-SECRET-KEY-'));
}
