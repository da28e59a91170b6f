// A local OpenID Connect issuer for the control plane: what GitHub's and GitLab's token services
// are to a real cluster. Its material lives in one directory:
//
//   ca.crt       self-signed certificate of https://127.0.0.1:<port> (the API server trusts it)
//   tls.key      that certificate's key
//   signing.key  RS256 key the tokens are signed with (published as the JWKS)
//   issuer.json  { "issuer": "https://127.0.0.1:<port>", "port": <port>, "kid": "...", "audience": "..." }
//
// node:crypto signs the tokens and the certificate; the few DER structures an X.509 certificate
// needs are written by hand below (no dependency, no openssl).

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The audience the control plane's JWT authenticator accepts. */
export const OIDC_AUDIENCE = 'slipway-test-cluster';
/**
 * One key, two issuers, as a cluster trusting both CI platforms has: `github` at the root URL and
 * `gitlab` under /gitlab, each with its own username prefix for the `sub` claim.
 */
export const ISSUERS = {
  github: { path: '', prefix: 'github:' },
  gitlab: { path: '/gitlab', prefix: 'gitlab:' },
} as const;
export type IssuerName = keyof typeof ISSUERS;
/** Prefix of usernames mapped from the `sub` claim of the GitHub-like issuer. */
export const OIDC_USERNAME_PREFIX = ISSUERS.github.prefix;

export interface IssuerInfo {
  readonly issuer: string;
  readonly port: number;
  readonly kid: string;
  readonly audience: string;
}

export interface OidcIssuer extends IssuerInfo {
  readonly dir: string;
  /** PEM of the certificate the issuer serves (its own CA). */
  readonly ca: string;
}

/** Creates the issuer's keys and certificate in `dir` for a server on 127.0.0.1:`port`. */
export function createIssuer(dir: string, port: number): OidcIssuer {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tls = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ca = selfSignedCertificate(tls.privateKey, tls.publicKey, 'slipway test OIDC issuer');
  const kid = createHash('sha256')
    .update(signing.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url')
    .slice(0, 16);
  const info: IssuerInfo = { issuer: `https://127.0.0.1:${port}`, port, kid, audience: OIDC_AUDIENCE };
  writeFileSync(join(dir, 'ca.crt'), ca);
  writeFileSync(join(dir, 'tls.key'), tls.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  writeFileSync(join(dir, 'signing.key'), signing.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  writeFileSync(join(dir, 'issuer.json'), `${JSON.stringify(info, null, 2)}\n`);
  return { ...info, dir, ca };
}

export function loadIssuer(dir: string): OidcIssuer {
  const info = JSON.parse(readFileSync(join(dir, 'issuer.json'), 'utf8')) as IssuerInfo;
  return { ...info, dir, ca: readFileSync(join(dir, 'ca.crt'), 'utf8') };
}

export interface TokenRequest {
  readonly subject: string;
  readonly audience: string;
  /** Seconds from now until `exp`; negative gives an already expired token. Default 600. */
  readonly ttlSeconds?: number;
  /** More claims (GitHub's `repository`, `environment`, `ref` …). */
  readonly claims?: Record<string, unknown>;
  /** Which of the two issuers signs it; default github. */
  readonly issuer?: IssuerName;
}

/** A signed RS256 ID token of the issuer in `dir`. */
export function issueToken(dir: string, request: TokenRequest): string {
  const info = loadIssuer(dir);
  const key = createPrivateKey(readFileSync(join(dir, 'signing.key')));
  const now = Math.floor(Date.now() / 1000);
  const ttl = request.ttlSeconds ?? 600;
  const header = { alg: 'RS256', typ: 'JWT', kid: info.kid };
  const payload = {
    jti: randomBytes(8).toString('hex'),
    iss: `${info.issuer}${ISSUERS[request.issuer ?? 'github'].path}`,
    sub: request.subject,
    aud: request.audience,
    // An expired token was also issued in the past, as a stale one would have been.
    iat: ttl > 0 ? now : now + ttl - 600,
    nbf: ttl > 0 ? now - 5 : now + ttl - 600,
    exp: now + ttl,
    ...request.claims,
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(signingInput), key).toString('base64url');
  return `${signingInput}.${signature}`;
}

/** What the issuer serves, by path: a discovery document per issuer, and the shared JWKS. */
export function issuerDocuments(dir: string): Record<string, string> {
  const info = loadIssuer(dir);
  const jwk = createPublicKey(createPrivateKey(readFileSync(join(dir, 'signing.key')))).export({
    format: 'jwk',
  });
  const documents: Record<string, string> = {
    '/.well-known/jwks': JSON.stringify({ keys: [{ ...jwk, kid: info.kid, use: 'sig', alg: 'RS256' }] }),
  };
  for (const { path } of Object.values(ISSUERS))
    documents[`${path}/.well-known/openid-configuration`] = JSON.stringify({
      issuer: `${info.issuer}${path}`,
      jwks_uri: `${info.issuer}/.well-known/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf'],
    });
  return documents;
}

/**
 * The API server's AuthenticationConfiguration (apiserver.config.k8s.io/v1, served by 1.37):
 * a JWT authenticator per issuer, usernames `github:<sub>` and `gitlab:<sub>` as a cluster
 * trusting GitHub Actions and GitLab CI would map them.
 */
export function authenticationConfig(issuer: OidcIssuer): string {
  const ca = issuer.ca
    .trimEnd()
    .split('\n')
    .map((line) => `        ${line}`)
    .join('\n');
  const authenticators = Object.values(ISSUERS).map(
    ({ path, prefix }) => `  - issuer:
      url: ${issuer.issuer}${path}
      audiences:
        - ${issuer.audience}
      certificateAuthority: |
${ca}
    claimMappings:
      username:
        claim: sub
        prefix: '${prefix}'
`,
  );
  return `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
${authenticators.join('')}`;
}

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

// --- a minimal X.509 certificate ----------------------------------------------------------------

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

const seq = (...content: Buffer[]): Buffer => der(0x30, ...content);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let rest = part >> 7; rest > 0; rest >>= 7) chunk.unshift((rest & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14);
  return der(0x17, Buffer.from(`${text}Z`));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));
}

/** A CA certificate that is also its own serving certificate for 127.0.0.1 and localhost. */
function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject, commonName: string): string {
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), der(0x05));
  const name = seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName)))));
  const now = Date.now();
  const serial = randomBytes(16);
  // Positive and minimally encoded: a leading 0x00 before a byte under 0x80 is DER's "illegal padding".
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    sha256WithRsa,
    name,
    seq(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 7 * 24 * 3600_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(
      0xa3,
      seq(
        extension('2.5.29.19', true, seq(der(0x01, Buffer.from([0xff])))),
        // digitalSignature, keyEncipherment, keyCertSign
        extension('2.5.29.15', true, der(0x03, Buffer.from([0x02, 0xa4]))),
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
        extension(
          '2.5.29.17',
          false,
          seq(der(0x87, Buffer.from([127, 0, 0, 1])), der(0x82, Buffer.from('localhost'))),
        ),
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = seq(tbs, sha256WithRsa, der(0x03, Buffer.from([0]), signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${certificate
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  // Parsing it back catches an encoding mistake here rather than as a TLS failure in Go.
  const parsed = new X509Certificate(pem);
  if (!parsed.verify(publicKey) || !parsed.checkIP('127.0.0.1'))
    throw new Error('the test issuer certificate does not verify');
  return pem;
}
