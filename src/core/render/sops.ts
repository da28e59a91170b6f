import { createDecipheriv, createHash } from 'node:crypto';
import { armor, Decrypter } from 'age-encryption';
import { UserError, type SourceLocation } from '../errors.ts';

/**
 * Decrypts SOPS-encrypted objects (age recipients; the format Flux's kustomize-controller decrypts)
 * in-process, so no `sops` binary and no key file are needed: the data key comes from the age
 * recipient stanza, each `ENC[AES256_GCM,…]` value is authenticated with its path as additional
 * data, and the file's MAC over every value is verified, so an edited or reordered value fails.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface SopsMetadata {
  readonly age: readonly { recipient: string; enc: string }[];
  readonly mac: string;
  readonly lastmodified: string;
  readonly unencrypted_suffix?: string;
  readonly encrypted_suffix?: string;
  readonly unencrypted_regex?: string;
  readonly encrypted_regex?: string;
  readonly mac_only_encrypted?: boolean;
  readonly encrypted_comment_regex?: string;
  readonly unencrypted_comment_regex?: string;
}

/**
 * sops seeds the hash with sha256("sops") when the MAC covers only encrypted values, so the two MAC
 * modes never agree by accident.
 */
const MAC_ONLY_ENCRYPTED_SEED = createHash('sha256').update('sops').digest();

const ENC =
  /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:(\w+)\]$/;

/** True when an object carries SOPS metadata (a top-level `sops` map with a MAC). */
export function isSopsEncrypted(object: object): boolean {
  const sops = (object as JsonObject)['sops'];
  return typeof sops === 'object' && sops !== null && !Array.isArray(sops) && 'mac' in sops;
}

/**
 * The object with every encrypted value decrypted and the `sops` metadata removed. `onSecret`
 * receives each decrypted string and its key path before this returns, so the caller's masker
 * knows them first.
 */
export async function decryptSops<T extends object>(
  object: T,
  ageKeys: readonly string[],
  location: SourceLocation,
  onSecret: (value: string, path: readonly string[]) => void,
  /**
   * false for an object whose key order a tool changed (kustomize sorts keys; the MAC follows the
   * file's order): the caller verifies the MAC on the source document instead. Each value is still
   * authenticated with its path.
   */
  verifyMac = true,
): Promise<T> {
  const fail = (message: string, hint: string): UserError =>
    new UserError('render', message, { location, hint });
  const { sops, ...tree } = object as JsonObject;
  const meta = sops as unknown as SopsMetadata;
  if (!Array.isArray(meta.age) || meta.age.length === 0) {
    throw fail(
      'is SOPS-encrypted for a key type Slipway cannot use (only age recipients are supported)',
      'add an age recipient to the file (`sops updatekeys` with an age key in .sops.yaml)',
    );
  }
  if (ageKeys.length === 0) {
    throw fail(
      'is SOPS-encrypted but no age key was given',
      'pass the private key (AGE-SECRET-KEY-1…) in the `sops-age-key` input or the SOPS_AGE_KEY variable, from a CI secret',
    );
  }
  const dataKey = await unwrapDataKey(meta, ageKeys).catch((error: unknown) => {
    throw fail(
      `cannot decrypt the SOPS data key: ${error instanceof Error ? error.message : String(error)}`,
      `none of the given age keys matches the file's recipients (${meta.age.map((a) => a.recipient).join(', ')})`,
    );
  });
  if (meta.encrypted_comment_regex || meta.unencrypted_comment_regex) {
    throw fail(
      'chooses what to encrypt by comments (encrypted_comment_regex), which Slipway cannot decide from the parsed object',
      'use encrypted_regex or unencrypted_suffix in .sops.yaml instead',
    );
  }
  const hash = createHash('sha512');
  if (meta.mac_only_encrypted) hash.update(MAC_ONLY_ENCRYPTED_SEED);
  const decryptValue = (value: string, path: readonly string[]): Json => {
    const plain = decryptText(value, dataKey, `${path.join(':')}:`);
    if (plain === undefined)
      throw fail(
        `the value at ${path.join('.')} does not decrypt`,
        'the file was edited by hand or corrupted: re-encrypt it with sops',
      );
    if (plain.type === 'str') onSecret(plain.text, path);
    return typed(plain.text, plain.type);
  };
  const walk = (value: Json, path: string[]): Json => {
    if (Array.isArray(value)) return value.map((item) => walk(item, path));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    const encrypted = isEncryptedPath(meta, path);
    const result =
      encrypted && typeof value === 'string' && ENC.test(value) ? decryptValue(value, path) : value;
    if (!meta.mac_only_encrypted || encrypted) hash.update(macBytes(result));
    return result;
  };
  const plain = walk(tree, []) as JsonObject;
  const expected = decryptText(meta.mac, dataKey, meta.lastmodified);
  const actual = hash.digest('hex').toUpperCase();
  if (verifyMac && expected?.text !== actual) {
    throw fail(
      'fails the SOPS integrity check (MAC mismatch): the file was changed after it was encrypted',
      'edit it with `sops edit` (or re-encrypt it) instead of editing the encrypted file by hand',
    );
  }
  return plain as T;
}

async function unwrapDataKey(meta: SopsMetadata, ageKeys: readonly string[]): Promise<Buffer> {
  const decrypter = new Decrypter();
  for (const key of ageKeys) decrypter.addIdentity(key);
  let lastError: unknown = new Error('no recipient stanza');
  for (const { enc } of meta.age) {
    try {
      return Buffer.from(await decrypter.decrypt(armor.decode(enc.trim() + '\n')));
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function decryptText(
  value: string,
  key: Buffer,
  additionalData: string,
): { text: string; type: string } | undefined {
  const match = ENC.exec(value);
  if (!match) return undefined;
  const [, data = '', iv = '', tag = '', type = 'str'] = match;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(additionalData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    const text = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString(
      'utf8',
    );
    return { text, type };
  } catch {
    return undefined;
  }
}

/** As sops's own path rules: a suffix or regex on any key of the path decides. */
function isEncryptedPath(meta: SopsMetadata, path: readonly string[]): boolean {
  let encrypted = true;
  if (meta.unencrypted_suffix && path.some((k) => k.endsWith(meta.unencrypted_suffix ?? '')))
    encrypted = false;
  if (meta.encrypted_suffix) encrypted = path.some((k) => k.endsWith(meta.encrypted_suffix ?? ''));
  if (meta.unencrypted_regex && path.some((k) => new RegExp(meta.unencrypted_regex ?? '').test(k)))
    encrypted = false;
  if (meta.encrypted_regex) encrypted = path.some((k) => new RegExp(meta.encrypted_regex ?? '').test(k));
  return encrypted;
}

function typed(text: string, type: string): Json {
  switch (type) {
    case 'int':
    case 'float':
      return Number(text);
    case 'bool':
      return text.toLowerCase() === 'true';
    default:
      return text;
  }
}

/** The bytes sops hashes for a value (Go's formatting: Python-style booleans). */
function macBytes(value: Json): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return '';
  if (typeof value === 'object') return ''; // unreachable: only leaves are hashed
  return String(value);
}
