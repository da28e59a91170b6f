// A local OCI registry for helm tests: Debian's docker-registry package (`docker-registry serve
// config.yml`); another build of the distribution registry can stand in through SLIPWAY_TEST_REGISTRY.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';

export interface LocalRegistry {
  /** `127.0.0.1:<port>`; the registry speaks plain HTTP. */
  readonly host: string;
  stop(): void;
}

/**
 * Starts a registry storing under `dir`, and waits until it answers on /v2/. Manifests can be
 * deleted (image-update tests delete tags).
 */
export async function startRegistry(dir: string): Promise<LocalRegistry> {
  const binary = process.env['SLIPWAY_TEST_REGISTRY'] ?? 'docker-registry';
  const host = `127.0.0.1:${await freePort()}`;
  const storage = path.join(dir, 'registry');
  mkdirSync(storage, { recursive: true });
  const config = path.join(dir, 'registry.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n`,
  );
  const registry = spawn(binary, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let failure: string | undefined;
  registry.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  registry.on(
    'error',
    (error) =>
      (failure = `cannot start ${binary} (on Debian: apt-get install docker-registry): ${String(error)}`),
  );
  registry.on('exit', (code) => (failure ??= `${binary} exited with ${String(code)}: ${stderr}`));
  try {
    await waitForRegistry(host, () => failure);
  } catch (error) {
    registry.kill();
    throw error;
  }
  return { host, stop: () => registry.kill() };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Polls the registry's /v2/ until it answers, the process fails (`failure`), or 20 s pass. */
async function waitForRegistry(host: string, failure: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const failed = failure();
    if (failed !== undefined) throw new Error(failed);
    try {
      const response = await fetch(`http://${host}/v2/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the registry did not answer on ${host} within 20 s`);
}
