import { canonicalJson } from './canonical.ts';
import { mapLimit, progressReporter } from './concurrency.ts';
import type { EnvironmentConfig } from './config.ts';
import { PROTECTED_KINDS } from './config.ts';
import { HELM_KEEP_ANNOTATION, OWNER_LABEL, PRUNE_ANNOTATION } from './constants.ts';
import { printableSides, secretSummary, unifiedDiff } from './diff.ts';
import { describeError, UserError } from './errors.ts';
import type { Inventory } from './inventory.ts';
import { crdScopes, scopeOf, type Scope } from './kinds.ts';
import type { Manifest, Provenance } from './manifest.ts';
import { appliesNoChange } from './noop.ts';
import { isSecret, normalizeForDiff } from './normalize.ts';
import {
  describeRef,
  groupOf,
  objectKey,
  refOf,
  type KubeObject,
  type ObjectRef,
  type ResourceInfo,
} from './objects.ts';
import { takenFields, type TakenFields } from './ownership.ts';
import type { KubeApi, Logger } from './ports.ts';
import { desiredObject } from './prepare.ts';

export type PlanAction = 'create' | 'update' | 'unchanged' | 'delete' | 'orphan' | 'error';

export interface PlannedObject {
  readonly ref: ObjectRef;
  readonly action: PlanAction;
  /** Unified diff of the secret-safe, normalised YAML; '' for unchanged. */
  readonly diff: string;
  readonly source: Provenance | undefined;
  /** Why a row is special: "validated after its CRD exists", "protected", a server error. */
  readonly note: string | undefined;
  readonly taken: readonly TakenFields[];
  /** What to send on apply (undefined for deletes and errors). */
  readonly desired: KubeObject | undefined;
  /** The live object as read (for prune preconditions and health). */
  readonly live: KubeObject | undefined;
  /** Applied only once its CRD or namespace exists, so the dry-run could not check it. */
  readonly deferred: boolean;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
  error: number;
  orphan: number;
}

export interface Plan {
  readonly environment: string;
  readonly objects: PlannedObject[];
  readonly summary: PlanSummary;
  readonly requests: number;
  readonly durationMs: number;
}

export interface PlanContext {
  readonly kube: KubeApi;
  readonly logger: Logger;
  readonly concurrency: number;
  /** Previous inventory: what it lists and Git no longer renders becomes a delete row. */
  readonly inventory: Inventory;
}

/**
 * Computes what an apply would do, object by object, with server-side dry-run: the server runs
 * defaulting, admission and validation exactly as it will for the real apply, and the result is
 * compared with the live object. One dry-run request per object plus one LIST per kind and
 * namespace for the live side.
 */
export async function planEnvironment(
  env: EnvironmentConfig,
  manifests: readonly Manifest[],
  context: PlanContext,
): Promise<Plan> {
  const started = Date.now();
  const requestsBefore = context.kube.requestCount;
  const { kube } = context;
  const renderedCrds = crdScopes(manifests.map((m) => m.object));

  // Resolve every kind once; a kind the cluster lacks may come from a CRD in this same change.
  const kinds = new Map<string, ResourceInfo | undefined>();
  for (const manifest of manifests) {
    const key = `${manifest.object.apiVersion}/${manifest.object.kind}`;
    if (!kinds.has(key)) kinds.set(key, await kube.resolve(manifest.object.apiVersion, manifest.object.kind));
  }
  const scope = (m: Manifest): Scope => {
    const resource = kinds.get(`${m.object.apiVersion}/${m.object.kind}`);
    if (resource) return resource.namespaced ? 'namespaced' : 'cluster';
    return scopeOf(m.object.apiVersion, m.object.kind, renderedCrds);
  };
  const desired = manifests.map((manifest) => ({
    manifest,
    object: desiredObject(manifest, env, scope(manifest)),
  }));

  const live = await fetchLive(
    kube,
    desired.map((d) => d.object),
    kinds,
    context.concurrency,
  );
  // Namespaces this change creates: objects in them cannot be dry-run until they exist.
  const newNamespaces = new Set(
    desired
      .filter(
        ({ object }) =>
          object.kind === 'Namespace' && object.apiVersion === 'v1' && !live.has(objectKey(refOf(object))),
      )
      .map(({ object }) => object.metadata.name ?? ''),
  );
  const shared: PlanShared = { kinds, renderedCrds, newNamespaces, env, kube };
  const progress = progressReporter(desired.length, 5_000, (done, total) =>
    context.logger.info(`${env.name}: planned ${done}/${total} objects`),
  );
  const objects = await mapLimit(desired, context.concurrency, async ({ manifest, object }) => {
    const row = await planObject(object, manifest, live.get(objectKey(refOf(object))), shared);
    progress.tick();
    return row;
  });
  progress.finish();

  const rendered = new Set(desired.map((d) => objectKey(refOf(d.object))));
  const stale = context.inventory.entries.filter((entry) => !rendered.has(objectKey(entry)));
  objects.push(
    ...(await mapLimit(stale, context.concurrency, (entry) => planDeletion(entry, env, kube))).filter(
      (row): row is PlannedObject => row !== undefined,
    ),
  );

  const summary: PlanSummary = { create: 0, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 };
  for (const row of objects) summary[row.action]++;
  return {
    environment: env.name,
    objects,
    summary,
    requests: kube.requestCount - requestsBefore,
    durationMs: Date.now() - started,
  };
}

/** Live objects by key: one LIST per kind and namespace when several are wanted, else one GET. */
async function fetchLive(
  kube: KubeApi,
  objects: readonly KubeObject[],
  kinds: ReadonlyMap<string, ResourceInfo | undefined>,
  concurrency: number,
): Promise<Map<string, KubeObject>> {
  const groups = new Map<
    string,
    { resource: ResourceInfo; namespace: string | undefined; objects: KubeObject[] }
  >();
  for (const object of objects) {
    const resource = kinds.get(`${object.apiVersion}/${object.kind}`);
    if (!resource) continue;
    const namespace = resource.namespaced ? object.metadata.namespace : undefined;
    const key = `${resource.group}/${resource.plural}/${namespace ?? ''}`;
    const group = groups.get(key) ?? { resource, namespace, objects: [] };
    group.objects.push(object);
    groups.set(key, group);
  }
  const live = new Map<string, KubeObject>();
  await mapLimit([...groups.values()], concurrency, async (group) => {
    const one = async (object: KubeObject): Promise<KubeObject[]> => {
      const found = await kube.get(refOf(object));
      return found ? [found] : [];
    };
    let found: KubeObject[];
    if (group.objects.length === 1) {
      found = await one(group.objects[0] as KubeObject);
    } else {
      try {
        found = await kube.list(group.resource, group.namespace ? { namespace: group.namespace } : {});
      } catch (error) {
        // RBAC may allow get but not list: read the objects one by one instead. Anything else is
        // a real failure; treating it as "nothing live" would turn every update into a create.
        if (!(error instanceof UserError && error.kind === 'permission')) throw error;
        found = (await mapLimit(group.objects, concurrency, one)).flat();
      }
    }
    for (const object of found) live.set(objectKey(refOf(object)), object);
  });
  return live;
}

/** What every object's planning shares. */
interface PlanShared {
  readonly kinds: ReadonlyMap<string, ResourceInfo | undefined>;
  readonly renderedCrds: ReadonlyMap<string, Scope>;
  readonly newNamespaces: ReadonlySet<string>;
  readonly env: EnvironmentConfig;
  readonly kube: KubeApi;
}

async function planObject(
  object: KubeObject,
  manifest: Manifest,
  live: KubeObject | undefined,
  { kinds, renderedCrds, newNamespaces, env, kube }: PlanShared,
): Promise<PlannedObject> {
  const ref = refOf(object);
  const base = {
    ref,
    source: manifest.source,
    desired: object,
    live,
    taken: [] as TakenFields[],
    deferred: false,
  };
  const resource = kinds.get(`${object.apiVersion}/${object.kind}`);
  if (!resource) {
    if (renderedCrds.has(`${groupOf(object.apiVersion)}/${object.kind}`)) {
      return {
        ...base,
        action: 'create',
        diff: sideDiff(undefined, object, ref),
        note: 'validated after its CRD exists',
        deferred: true,
      };
    }
    return {
      ...base,
      action: 'error',
      diff: '',
      note: `the cluster does not know ${object.kind} in ${object.apiVersion}, and no CustomResourceDefinition for it is rendered: install the CRD first or fix apiVersion/kind`,
    };
  }
  if (resource.namespaced && object.metadata.namespace && newNamespaces.has(object.metadata.namespace)) {
    // The dry-run would fail with "namespace not found" (kubernetes issue 114141).
    return {
      ...base,
      action: 'create',
      diff: sideDiff(undefined, object, ref),
      note: 'validated after its namespace exists',
      deferred: true,
    };
  }
  // No dry-run when the live object shows that applying cannot change it (most rows of a re-plan).
  if (live && appliesNoChange(object, live))
    return { ...base, action: 'unchanged', diff: '', note: undefined };
  try {
    const { object: result, created } = await kube.apply(object, { dryRun: true, force: env.forceConflicts });
    const taken = takenFields(live, result);
    if (created || !live)
      return { ...base, action: 'create', diff: sideDiff(live, result, ref), note: undefined, taken };
    // Unchanged rows need no YAML and no diff text.
    const same = canonicalJson(normalizeForDiff(live)) === canonicalJson(normalizeForDiff(result));
    const diff = same ? '' : sideDiff(live, result, ref);
    return { ...base, action: same ? 'unchanged' : 'update', diff, note: undefined, taken };
  } catch (error) {
    if (!(error instanceof UserError) || error.kind === 'connection') throw error;
    return { ...base, action: 'error', diff: '', note: describeError(error) };
  }
}

function sideDiff(before: KubeObject | undefined, after: KubeObject, ref: ObjectRef): string {
  const sides = printableSides(before, after);
  const text = unifiedDiff(sides.before, sides.after, label(ref));
  return isSecret(after) ? `# ${secretSummary(before, after)}\n${text}` : text;
}

function label(ref: ObjectRef): string {
  return `${ref.namespace ? `${ref.namespace}/` : ''}${ref.kind.toLowerCase()}/${ref.name}`;
}

/** A delete row for an inventory entry Git no longer renders; undefined when nothing will happen. */
async function planDeletion(
  entry: ObjectRef,
  env: EnvironmentConfig,
  kube: KubeApi,
): Promise<PlannedObject | undefined> {
  const base = { ref: entry, source: undefined, desired: undefined, taken: [], deferred: false };
  let live: KubeObject | undefined;
  try {
    live = await kube.get(entry);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return {
      ...base,
      live: undefined,
      action: 'error',
      diff: '',
      note: `cannot read ${describeRef(entry)} to plan its deletion: ${describeError(error)}`,
    };
  }
  if (!live || live.metadata.deletionTimestamp) return undefined;
  const sides = printableSides(live, undefined);
  const diff = unifiedDiff(sides.before, '', label(entry));
  const keep = pruneExemption(live, env);
  if (keep) return { ...base, live, action: 'orphan', diff: '', note: keep };
  return {
    ...base,
    live,
    action: 'delete',
    diff: isSecret(live) ? `# ${secretSummary(live, undefined)}\n${diff}` : diff,
    note: undefined,
  };
}

/** Why a stale object will not be deleted, or undefined when prune may delete it. */
export function pruneExemption(live: KubeObject, env: EnvironmentConfig): string | undefined {
  if (live.metadata.labels?.[OWNER_LABEL] !== env.name)
    return `kept: no longer labelled ${OWNER_LABEL}=${env.name} (someone else owns it now)`;
  if (live.metadata.annotations?.[PRUNE_ANNOTATION] === 'disabled')
    return `kept: annotated ${PRUNE_ANNOTATION}: disabled`;
  if (live.metadata.annotations?.[HELM_KEEP_ANNOTATION] === 'keep')
    return `kept: annotated ${HELM_KEEP_ANNOTATION}: keep`;
  if ((PROTECTED_KINDS as readonly string[]).includes(live.kind) && !env.allowDelete.includes(live.kind)) {
    return `orphaned (protected): deleting a ${live.kind} deletes ${live.kind === 'PersistentVolumeClaim' ? 'its data' : 'everything in it'}; list ${live.kind} under allow-delete to let prune remove it`;
  }
  return undefined;
}
