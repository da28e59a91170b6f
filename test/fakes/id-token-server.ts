// The GitHub Actions runtime's ID token service, as a job with `permissions: id-token: write` sees
// it: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with `Authorization: Bearer
// $ACTIONS_ID_TOKEN_REQUEST_TOKEN` answers {"value": "<jwt>"}. The tokens are signed by the local
// control plane's OIDC issuer, for the subject the test sets (the job's `sub`).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { closeServer, listenLocal } from './local-server.ts';

export interface IdTokenRequestLog {
  readonly audience: string | null;
  readonly authorized: boolean;
}

export interface FakeIdTokenService {
  /** The variables the runner gives the job. */
  readonly env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** Every token handed out, to look for in the job's output. */
  readonly issued: string[];
  readonly requests: IdTokenRequestLog[];
  close(): Promise<void>;
}

/** `sign(audience)` makes the token; the test changes what it signs between runs. */
export async function startIdTokenService(sign: (audience: string) => string): Promise<FakeIdTokenService> {
  const requestToken = `idtr_${randomBytes(16).toString('hex')}`;
  const issued: string[] = [];
  const requests: IdTokenRequestLog[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const authorized = request.headers.authorization === `Bearer ${requestToken}`;
    const audience = url.searchParams.get('audience');
    requests.push({ audience, authorized });
    // As the real service: the request URL carries an api-version, the audience is optional.
    if (url.pathname !== '/idtoken' || url.searchParams.get('api-version') !== '2.0') {
      response.writeHead(404).end();
      return;
    }
    if (!authorized) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}');
      return;
    }
    const value = sign(audience ?? 'https://github.com/acme');
    issued.push(value);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: 1, value }));
  });
  const base = await listenLocal(server);
  return {
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/idtoken?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
    issued,
    requests,
    close: () => closeServer(server),
  };
}
