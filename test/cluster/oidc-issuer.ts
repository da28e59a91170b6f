// node test/cluster/oidc-issuer.ts DIR
//
// Serves the test issuer of DIR (see oidc.ts) over HTTPS on 127.0.0.1: the discovery document and
// the JWKS, which is all the API server's JWT authenticator fetches. A process of its own, so it
// lives exactly as long as the control plane (also a detached one, `cli.ts up`).

import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { issuerDocuments, loadIssuer } from './oidc.ts';

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('usage: node test/cluster/oidc-issuer.ts DIR\n');
  process.exit(2);
}
const issuer = loadIssuer(dir);
const routes = issuerDocuments(dir);
const server = createServer(
  { cert: issuer.ca, key: readFileSync(join(dir, 'tls.key')) },
  (request, response) => {
    const body = routes[new URL(request.url ?? '/', issuer.issuer).pathname];
    process.stdout.write(
      `${new Date().toISOString()} ${request.method ?? ''} ${request.url ?? ''} ${body ? 200 : 404}\n`,
    );
    if (request.method !== 'GET' || body === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(body);
  },
);
server.listen(issuer.port, '127.0.0.1', () => {
  process.stdout.write(`issuer ${issuer.issuer} serving\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    server.close();
    process.exit(0);
  });
