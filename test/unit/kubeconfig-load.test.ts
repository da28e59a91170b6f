// A kubeconfig holds credentials: when it cannot be loaded, the error says where and why, but never
// quotes it (a YAML parser's message carries a snippet of the file, token included).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { connect } from '../../src/kube/connect.ts';

const TOKEN = 'sekrit-token-0123456789abcdef';

test('a kubeconfig that is not YAML is refused with its line, without quoting it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-kubeconfig-'));
  try {
    const file = path.join(dir, 'kubeconfig');
    // A secret pasted with a line missing: the flow collection never closes.
    writeFileSync(file, `apiVersion: v1\nusers: [{name: ci, user: {token: ${TOKEN}}}]\nclusters: [\n`);
    const error = await connect({ kubeconfig: file, concurrency: 1, retryDeadlineMs: 1000 }).then(
      () => assert.fail('loaded'),
      (e: unknown) => e as Error,
    );
    assert.match(error.message, /cannot load the kubeconfig .*: not valid YAML at line \d+, column \d+: /);
    for (const part of [TOKEN, TOKEN.slice(0, 10), 'user: {token'])
      assert.ok(!error.message.includes(part), `the error quotes the kubeconfig: ${error.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
