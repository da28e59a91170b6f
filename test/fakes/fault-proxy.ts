// A fault-injecting proxy in front of the real kube-apiserver: plain HTTP towards Slipway (with
// its own kubeconfig), HTTPS with the admin token towards the API server. Tests queue faults —
// 429 with Retry-After, 503, or a connection reset — for the next requests, and read counters.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';

export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: number }
  | { readonly kind: 'reset' };

export class FaultProxy {
  url = '';
  /** Requests that reached the proxy, and those forwarded to the API server. */
  received = 0;
  forwarded = 0;
  injected = 0;
  readonly #faults: Fault[] = [];
  readonly #server: Server;
  readonly #upstream: { server: string; ca: string; token: string };

  constructor(adminKubeconfig: string) {
    const config = load(readFileSync(adminKubeconfig, 'utf8')) as {
      clusters: {
        cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string };
      }[];
      users: { user: { token: string } }[];
    };
    const cluster = config.clusters[0]?.cluster;
    if (!cluster) throw new Error('kubeconfig without a cluster');
    const ca = cluster['certificate-authority-data']
      ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString()
      : readFileSync(cluster['certificate-authority'] ?? '', 'utf8');
    this.#upstream = { server: cluster.server, ca, token: config.users[0]?.user.token ?? '' };
    this.#server = createServer((request, response) => {
      this.#handle(request, response);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** Faults for the next requests, in order; requests after them pass through. */
  inject(...faults: Fault[]): void {
    this.#faults.push(...faults);
  }

  /** A kubeconfig that points Slipway at this proxy. */
  writeKubeconfig(file: string): string {
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: proxy\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true\nusers:\n- name: proxy\n  user:\n    token: proxy-token\ncontexts:\n- name: proxy\n  context:\n    cluster: proxy\n    user: proxy\ncurrent-context: proxy\n`,
    );
    return file;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    this.received++;
    const fault = this.#faults.shift();
    if (fault?.kind === 'reset') {
      this.injected++;
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      this.injected++;
      response.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {}),
      });
      response.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `injected ${fault.status}`,
          reason: fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable',
          code: fault.status,
        }),
      );
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.forwarded++;
      const headers = {
        ...request.headers,
        host: new URL(this.#upstream.server).host,
        authorization: `Bearer ${this.#upstream.token}`,
      };
      const upstream = httpsRequest(
        new URL(request.url ?? '/', this.#upstream.server),
        { method: request.method, headers, ca: this.#upstream.ca },
        (reply) => {
          response.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(response);
        },
      );
      upstream.on('error', () => request.socket.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  }
}
