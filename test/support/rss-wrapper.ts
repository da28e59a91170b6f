// Runs a Slipway entry point in this process and reports its peak RSS on exit, on stderr as
// `slipway-max-rss-kb N`: for memory checks in tests and the benchmark.
import { pathToFileURL } from 'node:url';

process.on('exit', () => {
  process.stderr.write(`\nslipway-max-rss-kb ${process.resourceUsage().maxRSS}\n`);
});
const [node = 'node', , entry, ...args] = process.argv;
if (!entry) throw new Error('usage: rss-wrapper.ts ENTRY [ARGS…]');
process.argv = [node, entry, ...args];
await import(pathToFileURL(entry).href);
