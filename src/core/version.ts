/** Slipway's release version: package.json's `version` (test/unit/release.test.ts keeps them equal). */
export const VERSION = '0.1.0';

/**
 * The commit a release build was made from: scripts/build.ts stamps it (SLIPWAY_BUILD_COMMIT) into
 * the npm package and scripts/sea.ts into the single-file binaries. Empty in the committed dist/,
 * which must rebuild byte for byte from src/ and cannot hold the commit that contains it; a run
 * from a git checkout finds its commit at run time instead (src/tools/build-info.ts).
 */
export const BUILD_COMMIT: string = '';

/** Which Slipway is running. */
export interface BuildInfo {
  readonly version: string;
  /** The full commit SHA, when known. */
  readonly commit?: string | undefined;
  /** Running from a working tree with uncommitted changes on top of `commit`. */
  readonly modified?: boolean | undefined;
  /** When no commit is known: what the code was fetched by, e.g. `slipway-dev/slipway@v0`. */
  readonly ref?: string | undefined;
}

/** The stamped build: BUILD_COMMIT is a SHA, with `+modified` when built from uncommitted changes. */
export function stampedBuild(stamp: string = BUILD_COMMIT): BuildInfo | undefined {
  const match = /^([0-9a-f]{40})(\+modified)?$/.exec(stamp);
  return match ? { version: VERSION, commit: match[1], modified: match[2] !== undefined } : undefined;
}

let running: BuildInfo = stampedBuild() ?? { version: VERSION };

/** Entry points record what they found at start; every report made afterwards names it. */
export function setRunningBuild(info: BuildInfo): void {
  running = info;
}

export function runningBuild(): BuildInfo {
  return running;
}

/** One line, e.g. `slipway 0.1.0 (commit 0123456789ab)`: --version, CI logs and plan comments. */
export function describeBuild(info: BuildInfo = running): string {
  const origin = info.commit
    ? `commit ${info.commit.slice(0, 12)}${info.modified ? ', modified' : ''}`
    : info.ref;
  return `slipway ${info.version}${origin ? ` (${origin})` : ''}`;
}

/**
 * The Node versions the bundled CLI runs on, as package.json `engines` says: the Kubernetes client
 * binds zlib's zstd decompressor when it loads, which Node has since 22.15 and 23.8
 * (test/e2e/npm-package.test.ts runs the package on the Node versions it finds).
 */
export const NODE_ENGINES = '^22.15.0 || >=23.8.0';

/** Why this Node cannot run Slipway, or undefined when it can. */
export function unsupportedNode(version: string): string | undefined {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const ok = major >= 24 || (major === 23 && minor >= 8) || (major === 22 && minor >= 15);
  return ok
    ? undefined
    : `Slipway needs Node 22.15 or newer (this is Node ${version.replace(/^v/, '')}); install a newer Node, or use the single-file binary, which brings its own`;
}
