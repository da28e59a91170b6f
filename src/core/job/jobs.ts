import { checkClusterPin } from '../apply/cluster-pin.ts';
import { planDigest } from '../plan/plan-digest.ts';
import type { EnvironmentConfig } from '../config/config.ts';
import { describeError, UserError } from '../errors.ts';
import { locateInventory } from '../inventory/inventory-move.ts';
import type { Finding } from '../yaml/manifest.ts';
import type { Annotation } from '../platform.ts';
import { planEnvironment } from '../plan/plan.ts';
import type { PlanMode } from '../plan/plan-mode.ts';
import type { GitHistory, KubeApi, Logger } from '../ports.ts';
import type { EnvironmentReport } from '../report/markdown.ts';
import { describeRef } from '../objects.ts';
import { distinctLocations } from '../plan/change-sources.ts';
import { hasErrors, type Workspace } from '../workspace.ts';
import { clusterCapabilities, type ClusterCapabilities } from '../render/capabilities.ts';
import { describeRisk } from '../risk/assess.ts';

/**
 * Render, validate and (with a cluster) plan one environment, never throwing for a user's
 * mistake: whatever went wrong ends up in the report, so the comment shows it.
 */
export async function planReport(
  workspace: Workspace,
  env: EnvironmentConfig,
  /** The environment's cluster (its pin is checked before planning); undefined validates offline. */
  cluster: { readonly kube: KubeApi; readonly server: string } | undefined,
  logger: Logger,
  concurrency: number,
  /** The change's base revision: adds the danger lint (selector changes, removed PVCs…) against it. */
  base?: { readonly revision: string; readonly git: GitHistory },
  /** Server dry-run, read-only estimate or auto (plan-mode.ts); an override, else the environment's. */
  planMode: PlanMode = env.planMode,
): Promise<EnvironmentReport> {
  let findings: Finding[] = [];
  const kube = cluster?.kube;
  try {
    // The wrong cluster is refused at plan time too: a plan against it would be a lie.
    if (cluster) await checkClusterPin(env, cluster.kube, cluster.server);
    const capabilities = kube ? await capabilitiesOrDefaults(kube, logger) : undefined;
    const rendered = await logger.group(`${env.name}: render and validate`, () =>
      workspace.renderAndValidate(env, capabilities),
    );
    findings = rendered.findings;
    if (base && !hasErrors(findings)) {
      findings = [
        ...findings,
        ...(await workspace.previousRevisionFindings(env, rendered.manifests, base.revision, base.git)),
      ];
    }
    if (hasErrors(findings)) {
      const count = findings.filter((f) => f.severity === 'error').length;
      return {
        environment: env.name,
        plan: undefined,
        findings,
        failure: `${count} error${count === 1 ? '' : 's'} in the manifests; nothing can be planned until they are fixed`,
      };
    }
    if (!kube) return { environment: env.name, plan: undefined, findings, failure: undefined };
    const inventory = await locateInventory(kube, env, logger, workspace.repository);
    const plan = await logger.group(`${env.name}: plan`, () =>
      planEnvironment(env, rendered.manifests, {
        kube,
        logger,
        concurrency,
        inventory,
        repository: workspace.repository,
        planMode,
      }),
    );
    logger.info(
      `${env.name}: ${plan.objects.length} objects planned with ${plan.requests} API requests in ${(plan.durationMs / 1000).toFixed(1)} s`,
    );
    // The prune budget and another repository's inventory fail the check, with the plan shown.
    const refused = plan.refusals?.map((r) => r.message).join('; ');
    // What the render has to say (helm hooks, …) is part of the plan a reviewer reads.
    const shown =
      rendered.notes.length > 0 ? { ...plan, notes: [...rendered.notes, ...(plan.notes ?? [])] } : plan;
    // What the apply after the merge compares with (plan-digest.ts, job/reviewed-plan.ts).
    const digest = planDigest(rendered.manifests, plan);
    return { environment: env.name, plan: shown, findings, failure: refused || undefined, digest };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { environment: env.name, plan: undefined, findings, failure: describeError(error) };
  }
}

/** The cluster's Capabilities for helm; helm's defaults, said in the log, when discovery fails. */
export async function capabilitiesOrDefaults(
  kube: KubeApi,
  logger: Logger,
): Promise<ClusterCapabilities | undefined> {
  try {
    return await clusterCapabilities(kube);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    logger.warn(
      `cannot read the cluster's version and APIs for helm (${describeError(error)}): charts render with helm's default Capabilities`,
    );
    return undefined;
  }
}

/** Annotations for a check run: findings, plus plan rows the server refused, on their file and line. */
export function annotationsOf(report: EnvironmentReport): Annotation[] {
  const annotations: Annotation[] = report.findings.map((f) => ({
    location: f.location,
    level: f.severity === 'error' ? 'failure' : 'warning',
    message: f.message,
    title: f.rule,
  }));
  for (const risk of report.plan?.risks ?? []) {
    const row = risk.ref && report.plan?.objects.find((o) => o.ref === risk.ref);
    if (row && row.source)
      annotations.push({
        location: row.source,
        level: risk.level === 'error' ? 'failure' : 'warning',
        message: describeRisk(risk),
        title: `risk: ${risk.id}`,
      });
  }
  for (const row of report.plan?.objects ?? []) {
    if (row.action === 'error' && row.source) {
      annotations.push({
        location: row.source,
        level: 'failure',
        message: `${describeRef(row.ref)}: ${row.note ?? 'failed'}`,
        title: 'server-side dry-run',
      });
    }
  }
  return annotations;
}

// Enough to mark every change of an ordinary pull request; a bulk change is read in the plan instead.
const MAX_CHANGE_ANNOTATIONS = 200;

/**
 * Notices for a check run on the lines each change comes from: a created object at its document,
 * an update at each distinct source of its changed fields (patch line, values line…). Field names
 * only, never values. Past MAX_CHANGE_ANNOTATIONS the last notice says how many more the plan has.
 */
export function changeAnnotationsOf(report: EnvironmentReport): Annotation[] {
  const notices: Annotation[] = [];
  for (const row of report.plan?.objects ?? []) {
    if (row.action === 'create' && row.source && row.source.file)
      notices.push({
        location: row.source,
        level: 'notice',
        message: `creates ${describeRef(row.ref)}`,
        title: 'create',
      });
    if (row.action !== 'update') continue;
    const places = distinctLocations(row.changes ?? []);
    if (places.length === 0 && row.source)
      notices.push({
        location: row.source,
        level: 'notice',
        message: `updates ${describeRef(row.ref)}`,
        title: 'update',
      });
    for (const place of places)
      notices.push({
        location: place.location,
        level: 'notice',
        message: `updates ${describeRef(row.ref)}: ${place.fields.join(', ')}`,
        title: 'update',
      });
  }
  if (notices.length <= MAX_CHANGE_ANNOTATIONS) return notices;
  const shown = notices.slice(0, MAX_CHANGE_ANNOTATIONS);
  const last = shown[shown.length - 1];
  if (last)
    shown[shown.length - 1] = {
      ...last,
      message: `${last.message} (and ${notices.length - MAX_CHANGE_ANNOTATIONS} more changes: see the plan)`,
    };
  return shown;
}

export function reportFailed(report: EnvironmentReport): boolean {
  return report.failure !== undefined || hasErrors(report.findings) || (report.plan?.summary.error ?? 0) > 0;
}

export function reportHasChanges(report: EnvironmentReport): boolean {
  const s = report.plan?.summary;
  return s !== undefined && s.create + s.update + s.delete > 0;
}
