// Measuring tools of the speed benchmark: a raw API client (setup, the control plane's own limit,
// resourceVersion checks), a timed child process with its peak RSS, and a request tap that sorts
// what a tool sends by kind of request.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { load } from 'js-yaml';

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function loadAverage(): [number, number, number] {
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  return [Number(one.toFixed(2)), Number(five.toFixed(2)), Number(fifteen.toFixed(2))];
}

export interface RawResponse {
  readonly status: number;
  readonly body: string;
}

/** HTTPS straight to the API server with the admin kubeconfig's token, over keep-alive sockets. */
export class RawApi {
  readonly server: string;
  readonly #agent: https.Agent;
  readonly #token: string;

  constructor(adminKubeconfig: string, sockets: number) {
    const config = load(readFileSync(adminKubeconfig, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[];
      users: { user: { token: string } }[];
    };
    const cluster = config.clusters[0]?.cluster;
    if (!cluster) throw new Error('kubeconfig without a cluster');
    this.server = cluster.server;
    this.#token = config.users[0]?.user.token ?? '';
    const ca = Buffer.from(cluster['certificate-authority-data'] ?? '', 'base64').toString();
    this.#agent = new https.Agent({ keepAlive: true, maxSockets: sockets, ca });
  }

  /** One request; with `discard`, the body is read but not kept (the limit measurement). */
  request(
    method: string,
    path: string,
    body?: string,
    contentType = 'application/json',
    discard = false,
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${this.#token}`,
        Accept: 'application/json',
      };
      if (body !== undefined) {
        headers['Content-Type'] = contentType;
        headers['Content-Length'] = String(Buffer.byteLength(body));
      }
      const request = https.request(
        new URL(path, this.server),
        { method, headers, agent: this.#agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => {
            if (!discard) chunks.push(chunk);
          });
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  async ok(method: string, path: string, body?: unknown, contentType?: string): Promise<unknown> {
    const response = await this.request(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      contentType,
    );
    if (response.status >= 300)
      throw new Error(`${method} ${path}: HTTP ${response.status} ${response.body}`);
    return JSON.parse(response.body) as unknown;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Runs `work` over `items` with `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface ProcessRun {
  readonly ms: number;
  readonly code: number | null;
  /** Peak resident set (MB), when the child reported it. */
  readonly maxRssMb: number | undefined;
  readonly timedOut: boolean;
}

export interface ProcessOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Where stdout and stderr go (files); '/dev/null' when not given. */
  readonly stdout?: string;
  readonly stderr?: string;
  readonly timeoutMs?: number;
  /** A file the child writes its peak RSS (kB) to on exit (see RSS_PRELOAD). */
  readonly rssFile?: string;
}

/**
 * Preloaded into Slipway's node process: writes `process.resourceUsage().maxRSS` (kB) to
 * $BENCH_RSS_FILE on exit. A data: URL, so it adds no file and no type stripping to the start.
 */
export const RSS_PRELOAD =
  'data:text/javascript,import{writeFileSync}from"node:fs";process.on("exit",()=>{if(process.env.BENCH_RSS_FILE)writeFileSync(process.env.BENCH_RSS_FILE,String(process.resourceUsage().maxRSS))})';

/** Wall time of a child process from spawn to exit. */
export function runTimed(
  command: string,
  args: readonly string[],
  options: ProcessOptions = {},
): Promise<ProcessRun> {
  const out = openSync(options.stdout ?? '/dev/null', 'w');
  const err = openSync(options.stderr ?? '/dev/null', 'w');
  if (options.rssFile) rmSync(options.rssFile, { force: true });
  const env = {
    ...(options.env ?? process.env),
    ...(options.rssFile ? { BENCH_RSS_FILE: options.rssFile } : {}),
  };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env, stdio: ['ignore', out, err] });
    closeSync(out);
    closeSync(err);
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      if (timer) clearTimeout(timer);
      let maxRssMb: number | undefined;
      if (options.rssFile) {
        try {
          maxRssMb = Number(readFileSync(options.rssFile, 'utf8')) / 1024;
        } catch {
          maxRssMb = undefined;
        }
      }
      resolve({ ms, code, maxRssMb, timedOut });
    });
  });
}

export type RequestClass =
  'discovery' | 'get' | 'list' | 'patch-dry-run' | 'patch' | 'create' | 'update' | 'delete' | 'other';

export interface TappedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly kind: RequestClass;
  /** The namespace in the path, if any. */
  readonly namespace: string | undefined;
}

/** Sorts a request by what it does to the API, from its method and path alone. */
export function classify(method: string, url: string): TappedRequest {
  const parsed = new URL(url, 'http://tap');
  const path = parsed.pathname.replace(/\/$/, '');
  const query = parsed.searchParams;
  const segments = path.split('/').filter(Boolean);
  let rest: string[] | undefined;
  if (segments[0] === 'api') rest = segments.slice(2);
  else if (segments[0] === 'apis') rest = segments.slice(3);
  // /api, /apis, /api/v1, /apis/<group>, /apis/<group>/<version>: discovery.
  const isDiscovery =
    (segments[0] === 'api' && segments.length <= 2) || (segments[0] === 'apis' && segments.length <= 3);
  let namespace: string | undefined;
  let named = false;
  if (rest && !isDiscovery) {
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      named = rest.length >= 4;
    } else {
      named = rest.length >= 2;
      if (rest[0] === 'namespaces' && rest.length === 2) namespace = rest[1];
    }
  }
  let kind: RequestClass = 'other';
  if (method === 'GET') {
    if (isDiscovery) kind = 'discovery';
    else if (rest) kind = named ? 'get' : 'list';
  } else if (method === 'PATCH') kind = query.get('dryRun') === 'All' ? 'patch-dry-run' : 'patch';
  else if (method === 'POST') kind = query.get('dryRun') === 'All' ? 'other' : 'create';
  else if (method === 'PUT') kind = query.get('dryRun') === 'All' ? 'other' : 'update';
  else if (method === 'DELETE') kind = 'delete';
  return { method, path, query, kind, namespace };
}

/**
 * A plain-HTTP pass-through in front of the counting FaultProxy: it records each request's method
 * and URL so counts can be broken down (discovery, LIST, dry-run, write…), and forwards it as is.
 */
export class RequestTap {
  url = '';
  readonly requests: TappedRequest[] = [];
  readonly #server: http.Server;
  readonly #upstream: URL;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(upstream: string) {
    this.#upstream = new URL(upstream);
    this.#server = http.createServer((request, response) => {
      this.#forward(request, response);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  reset(): void {
    this.requests.length = 0;
  }

  counts(): Record<RequestClass | 'total', number> {
    const counts: Record<RequestClass | 'total', number> = {
      total: 0,
      discovery: 0,
      get: 0,
      list: 0,
      'patch-dry-run': 0,
      patch: 0,
      create: 0,
      update: 0,
      delete: 0,
      other: 0,
    };
    for (const request of this.requests) {
      counts.total++;
      counts[request.kind]++;
    }
    return counts;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#agent.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #forward(request: IncomingMessage, response: ServerResponse): void {
    this.requests.push(classify(request.method ?? 'GET', request.url ?? '/'));
    const upstream = http.request(
      new URL(request.url ?? '/', this.#upstream),
      {
        method: request.method,
        headers: { ...request.headers, host: this.#upstream.host },
        agent: this.#agent,
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    upstream.on('error', () => request.socket.destroy());
    request.pipe(upstream);
  }
}
