#!/usr/bin/env node
import { runCli } from './cli/main.ts';
import { unsupportedNode } from './core/version.ts';

// An older Node would fail later, mid-command, with an internal error: say so up front instead.
const unsupported = unsupportedNode(process.versions.node);
if (unsupported) {
  process.stderr.write(`slipway: ${unsupported}\n`);
  process.exitCode = 1;
} else {
  const code = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    isTty: process.stdout.isTTY,
  });
  process.exitCode = code;
}
