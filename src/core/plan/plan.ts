import { adoptionOf, describeAdoption, previewAdoption } from '../ownership/adopt.ts';
import { canonicalJson } from '../canonical.ts';
import { changeSources } from './change-sources.ts';
import { mapLimit, progressReporter } from '../concurrency.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { describeError, UserError } from '../errors.ts';
import { ForeignOwners } from '../ownership/foreign-owner.ts';
import type { Scope } from '../validate/kinds.ts';
import { fetchLive } from './live-objects.ts';
import type { Manifest } from '../yaml/manifest.ts';
import { quietSides } from '../noise/builtin.ts';
import { ignoredPaths, maskIgnored, respectIgnored, rulesFor } from '../noise/rules.ts';
import { appliesNoChange } from './noop.ts';
import { normalizeForDiff } from './normalize.ts';
import { sideDiff } from './object-diff.ts';
import { groupOf, objectKey, refOf, type KubeObject, type ResourceInfo } from '../objects.ts';
import { takenFields, type TakenFields } from '../ownership/ownership.ts';
import { planDeletions } from './plan-deletion.ts';
import { planGuards } from './plan-guards.ts';
import { fidelitySummary, PlanFidelity } from './plan-mode.ts';
import type { Plan, PlanContext, PlannedObject, PlanSummary } from './plan-types.ts';
import type { KubeApi } from '../ports.ts';
import { desiredObjects, resolveKinds, scopedEntries } from './prepare.ts';
import { assessRisks } from '../risk/assess.ts';

export type { Plan, PlanAction, PlanContext, PlannedObject, PlanSummary } from './plan-types.ts';

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
  const { kinds, renderedCrds, scope } = await resolveKinds(manifests, kube);
  const desired = desiredObjects(manifests, env, scope);

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
  const owners = new ForeignOwners(kube, env, context.logger);
  const fidelity = new PlanFidelity(context.planMode ?? 'server', env.name, context.logger);
  const shared: PlanShared = { kinds, renderedCrds, newNamespaces, env, kube, owners, fidelity };
  const progress = progressReporter(desired.length, 5_000, (done, total) =>
    context.logger.info(`${env.name}: planned ${done}/${total} objects`),
  );
  const objects = await mapLimit(
    desired,
    context.concurrency,
    async ({ manifest, object, notes, duplicate }) => {
      const row: PlannedObject = duplicate
        ? { ...NOT_PLANNED, ref: refOf(object), source: manifest.source, action: 'error', note: duplicate }
        : await planObject(object, manifest, live.get(objectKey(refOf(object))), shared);
      progress.tick();
      return notes.length ? { ...row, note: [...notes, ...(row.note ? [row.note] : [])].join('; ') } : row;
    },
  );
  progress.finish();

  const rendered = new Set(desired.map((d) => objectKey(refOf(d.object))));
  const stale = (await scopedEntries(context.inventory.entries, kube)).filter(
    (entry) => !rendered.has(objectKey(entry)),
  );
  objects.push(...(await planDeletions(stale, env, kube, context.logger, context.concurrency)));

  const summary: PlanSummary = { create: 0, update: 0, delete: 0, unchanged: 0, error: 0, orphan: 0 };
  for (const row of objects) summary[row.action]++;
  const adoptOnly = objects.filter((row) => row.adoptOnly).length;
  if (adoptOnly > 0) summary.adopt = adoptOnly;
  const { refusals, notes } = planGuards(
    env,
    context,
    summary.delete,
    objects.map((row) => row.live),
  );
  const adopted = objects.filter((row) => row.adopts).length;
  if (adopted > 0)
    notes.push(
      `adopts ${adopted} object${adopted === 1 ? '' : 's'} from kubectl: fields that kubectl applied move to Slipway's ownership on apply, so removing them from Git removes them from the cluster`,
    );
  for (const refusal of refusals) context.logger.error(`${env.name}: ${refusal.message}`);
  for (const note of notes) context.logger.warn(`${env.name}: ${note}`);
  const estimated = fidelitySummary(objects);
  return {
    ...(estimated ? { fidelity: estimated } : {}),
    environment: env.name,
    objects,
    summary,
    refusals,
    notes,
    risks: assessRisks(objects, env.risks, {
      enabled: env.prune,
      budget: env.pruneBudget,
      inventorySize: context.inventory.entries.length,
    }),
    requests: kube.requestCount - requestsBefore,
    durationMs: Date.now() - started,
  };
}

/** A row nothing is sent for. */
const NOT_PLANNED = { desired: undefined, live: undefined, taken: [], deferred: false, diff: '' } as const;

/** What every object's planning shares. */
interface PlanShared {
  readonly kinds: ReadonlyMap<string, ResourceInfo | undefined>;
  readonly renderedCrds: ReadonlyMap<string, Scope>;
  readonly newNamespaces: ReadonlySet<string>;
  readonly env: EnvironmentConfig;
  readonly kube: KubeApi;
  readonly owners: ForeignOwners;
  readonly fidelity: PlanFidelity;
}

async function planObject(
  rendered: KubeObject,
  manifest: Manifest,
  live: KubeObject | undefined,
  { kinds, renderedCrds, newNamespaces, env, kube, owners, fidelity }: PlanShared,
): Promise<PlannedObject> {
  const ref = refOf(rendered);
  // ignore-differences: what is ignored is never changed by the apply (see noise/rules.ts).
  const ignore = rulesFor(env.ignoreDifferences, ref);
  const object = respectIgnored(rendered, live, ignore);
  const base = {
    ref,
    source: manifest.source,
    desired: object,
    live,
    taken: [] as TakenFields[],
    deferred: false,
  };
  const unreached = notDryRunnable(object, base, { kinds, renderedCrds, newNamespaces });
  if (unreached) return unreached;
  const owner = live ? await owners.check(live) : {};
  if (owner.error) return { ...base, action: 'error', diff: '', note: owner.error };
  const adopts = adoptionOf(live);
  const notes = [owner.note, adopts && describeAdoption(adopts)].filter((n): n is string => Boolean(n));
  let note = notes.length ? notes.join('; ') : undefined;
  // No dry-run when the live object shows that applying cannot change it (most rows of a re-plan).
  if (live && !adopts && appliesNoChange(object, live))
    return { ...base, action: 'unchanged', diff: '', note, fidelity: fidelity.current };
  try {
    const dryRun = await fidelity.result(object, live, () =>
      kube.apply(object, { dryRun: true, force: env.forceConflicts }),
    );
    const measured = { fidelity: dryRun.fidelity };
    // The dry-run cannot see the adoption (written only on apply): preview what it removes. The
    // estimate already removes it.
    const preview =
      live && adopts && dryRun.fidelity === 'server-dry-run'
        ? await previewAdoption(kube, live, dryRun.object)
        : undefined;
    const result = preview?.object ?? dryRun.object;
    if (preview?.problem) note = note ? `${note}; ${preview.problem}` : preview.problem;
    const taken = takenFields(live, dryRun.object).filter((t) => !adopts?.managers.includes(t.manager));
    if (dryRun.created || !live)
      return { ...base, ...measured, action: 'create', diff: sideDiff(live, result, ref), note, taken };
    // Unchanged rows need no YAML and no diff text; ignored fields count as they are live.
    const shown = ignore.length ? maskIgnored(live, result, ignoredPaths(ignore, live)) : result;
    const same = canonicalJson(normalizeForDiff(live)) === canonicalJson(normalizeForDiff(shown));
    const quiet = same ? undefined : quietSides(live, shown);
    const diff = quiet ? sideDiff(quiet.live, quiet.result, ref) : '';
    if (quiet?.note) note = note ? `${note}; ${quiet.note}` : quiet.note;
    // An adoption is a write even when nothing Git sets changes (the stale last-applied goes).
    const action = same && !adopts ? 'unchanged' : 'update';
    // The row points at where its first change is written (a patch line), not only at the object.
    // An adoption's only change is Slipway's own labels: nothing in the repository to point at.
    const changes = quiet && !quiet.adoptOnly ? changeSources(manifest, quiet.live, quiet.result) : [];
    const traced = changes.length ? { source: changes[0]?.location ?? base.source, changes } : {};
    return {
      ...base,
      ...traced,
      ...measured,
      action,
      diff,
      note,
      taken,
      adopts,
      ...(quiet?.adoptOnly ? { adoptOnly: true } : {}),
    };
  } catch (error) {
    if (!(error instanceof UserError) || error.kind === 'connection') throw error;
    return { ...base, action: 'error', diff: '', note: describeError(error) };
  }
}

/**
 * A row the dry-run cannot check: a kind only a CRD of this change defines, an object in a
 * namespace this change creates, or a kind nobody serves.
 */
function notDryRunnable(
  object: KubeObject,
  base: Omit<PlannedObject, 'action' | 'diff' | 'note'>,
  { kinds, renderedCrds, newNamespaces }: Pick<PlanShared, 'kinds' | 'renderedCrds' | 'newNamespaces'>,
): PlannedObject | undefined {
  const ref = base.ref;
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
  return undefined;
}
