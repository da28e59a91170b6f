/**
 * The engine's view of the outside world. Adapters (GitHub, GitLab, the CLI, client-node, child
 * processes) implement these; the engine imports nothing else that does I/O besides node:fs reads
 * of the repository through RepoFiles.
 */
import type { SourceLocation } from './errors.ts';
import type { KubeObject, ObjectRef, ResourceInfo } from './objects.ts';

export interface Logger {
  info(message: string): void;
  warn(message: string, location?: SourceLocation): void;
  error(message: string, location?: SourceLocation): void;
  debug(message: string): void;
  /** A collapsible section of the log around one phase. */
  group<T>(title: string, work: () => Promise<T>): Promise<T>;
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface CommandOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** Runs a program without a shell. A missing program is a UserError of kind 'tool'. */
export interface CommandRunner {
  run(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult>;
}

export interface ApplyOptions {
  readonly dryRun: boolean;
  readonly force: boolean;
}

export interface DeleteOptions {
  /** Only delete this exact object: guards against deleting a re-created one. */
  readonly uid?: string;
  readonly resourceVersion?: string;
}

/**
 * The Kubernetes API as the engine needs it: raw JSON objects, never typed models (they drop
 * fields they do not know), discovery cached for the run.
 */
export interface KubeApi {
  /** The resource serving a kind, or undefined when the cluster does not know the kind. */
  resolve(apiVersion: string, kind: string): Promise<ResourceInfo | undefined>;
  /**
   * The server's preferred served version of a group's kind, whatever version it was recorded
   * with (an inventory entry from before an upgrade); undefined when no version serves it.
   */
  resolveGroupKind(group: string, kind: string): Promise<ResourceInfo | undefined>;
  /** Forget cached discovery, e.g. after new CRDs became Established. */
  invalidateDiscovery(): void;
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(
    resource: ResourceInfo,
    options?: { namespace?: string; labelSelector?: string },
  ): Promise<KubeObject[]>;
  /** Server-side apply with the field manager fixed by the adapter. */
  apply(object: KubeObject, options: ApplyOptions): Promise<{ object: KubeObject; created: boolean }>;
  /**
   * A JSON patch (RFC 6902) by Slipway's field manager, e.g. to migrate managedFields; the
   * server's refusal (409 when a guarded resourceVersion moved on) is a UserError.
   */
  jsonPatch(ref: ObjectRef, operations: readonly unknown[]): Promise<KubeObject>;
  /** Returns false when the object was already gone. */
  delete(ref: ObjectRef, options?: DeleteOptions): Promise<boolean>;
  /** Create or replace a whole object (used for Slipway's own records: inventory, lock). */
  create(object: KubeObject): Promise<KubeObject>;
  /** With `dryRun`, the server defaults and validates the object and writes nothing. */
  replace(object: KubeObject, options?: { readonly dryRun?: boolean }): Promise<KubeObject>;
  serverVersion(): Promise<string>;
  /**
   * Every served `group/version` and `group/version/Kind` (from the cached discovery), sorted:
   * what helm puts in `.Capabilities.APIVersions` when it talks to a cluster.
   */
  servedApiVersions(): Promise<string[]>;
  /** Requests sent so far, for progress and benchmarks. */
  readonly requestCount: number;
}

/** The repository's history, as far as the engine needs it. */
export interface GitHistory {
  /** Repo-relative paths that differ between two revisions (added, changed, deleted, both sides of a rename). */
  changedFiles(base: string, head: string): Promise<string[]>;
  /** True when `ancestor` is an ancestor of (or equal to) `descendant`; false when unknown. */
  isAncestor(ancestor: string, descendant: string): Promise<boolean>;
  /** Writes the tree of `revision` into `dir` (for rendering the previous revision). */
  checkoutTree(revision: string, dir: string): Promise<void>;
  resolve(revision: string): Promise<string>;
  /** The merge base of two revisions, or undefined when they share no history. */
  mergeBase(a: string, b: string): Promise<string | undefined>;
}
