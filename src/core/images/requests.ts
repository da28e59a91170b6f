// Which pull/merge requests the image job keeps, and what they say: pure, so GitHub and GitLab
// translate the same decisions. `per-environment` and `grouped` are two groupings of the same
// updates; each request is one branch with one commit on the base.

import { formatLocation } from '../errors.ts';
import type { EnvironmentUpdates } from './find.ts';
import type { ImageUpdate } from './updates.ts';

/** `image-pull-requests:` in slipway.yaml. */
export type ImageRequestMode = 'per-environment' | 'grouped';
export const IMAGE_REQUEST_MODES: readonly ImageRequestMode[] = ['per-environment', 'grouped'];

export const IMAGE_BRANCH_PREFIX = 'slipway/images/';
/** `all`, as `environment: all` means every environment elsewhere in Slipway. */
export const GROUPED_BRANCH = `${IMAGE_BRANCH_PREFIX}all`;

export interface ImageRequest {
  readonly branch: string;
  /** `all` for the grouped request, else its environment. */
  readonly name: string;
  /** The environments whose bumps it lists, each with its own (possibly none). */
  readonly environments: readonly EnvironmentUpdates[];
  /** Each edit once (a file two environments share is edited once), by file. */
  readonly edits: ReadonlyMap<string, readonly ImageUpdate[]>;
  readonly updates: number;
  /**
   * The lines it edits that several scanned environments use (a base, a shared values file), by
   * `file\0offset`: every environment the edit changes, this request's or not.
   */
  readonly shared: ReadonlyMap<string, readonly string[]>;
}

export interface ImageRequestPlan {
  readonly mode: ImageRequestMode;
  readonly requests: readonly ImageRequest[];
  /** The other mode's branches: their open request is closed, pointing at this mode's. */
  readonly stale: readonly { readonly branch: string; readonly name: string }[];
  /** Locations two environments want different text at: left as they are. */
  readonly conflicts: readonly string[];
}

/** Pure: the `image-pull-requests:` value, reporting a wrong one at its key. */
export function parseImageRequestMode(
  raw: unknown,
  problem: (keyPath: string, message: string) => void,
): ImageRequestMode {
  if (raw === undefined || raw === null) return 'per-environment';
  const mode = IMAGE_REQUEST_MODES.find((m) => m === raw);
  if (mode === undefined)
    problem('image-pull-requests', '`image-pull-requests:` must be `per-environment` or `grouped`');
  return mode ?? 'per-environment';
}

const locationOf = (update: ImageUpdate): string => `${update.file}\0${update.start}`;

/**
 * Each location's edit once across the environments given. A location two environments share
 * (a values file both list) is one edit; one they want different text at is no edit and a conflict.
 */
export function editsByFile(environments: readonly EnvironmentUpdates[]): {
  edits: Map<string, ImageUpdate[]>;
  conflicts: string[];
  /** The conflicting locations (`file\0offset`). */
  conflicted: Set<string>;
} {
  const first = new Map<string, { update: ImageUpdate; environment: string }>();
  const conflicts = new Map<string, string>();
  for (const { environment, updates } of environments)
    for (const update of updates) {
      const key = locationOf(update);
      const seen = first.get(key);
      if (seen === undefined) first.set(key, { update, environment });
      else if (seen.update.text !== update.text && !conflicts.has(key))
        conflicts.set(
          key,
          `${formatLocation(update)}: environments ${seen.environment} and ${environment} want ${seen.update.to} and ${update.to} (policies ${seen.update.policy}, ${update.policy}): left as it is`,
        );
    }
  const edits = new Map<string, ImageUpdate[]>();
  for (const [key, { update }] of first)
    if (!conflicts.has(key)) edits.set(update.file, [...(edits.get(update.file) ?? []), update]);
  return { edits, conflicts: [...conflicts.values()], conflicted: new Set(conflicts.keys()) };
}

function request(
  branch: string,
  name: string,
  environments: readonly EnvironmentUpdates[],
  users: ReadonlyMap<string, readonly string[]>,
) {
  const { edits, conflicts, conflicted } = editsByFile(environments);
  // The body lists only what the branch edits.
  const listed = environments.map(({ environment, updates }) => ({
    environment,
    updates: updates.filter((u) => !conflicted.has(locationOf(u))),
  }));
  const updates = listed.reduce((n, e) => n + e.updates.length, 0);
  const shared = new Map<string, readonly string[]>();
  for (const update of listed.flatMap((e) => e.updates)) {
    const names = users.get(locationOf(update)) ?? [];
    if (names.length > 1) shared.set(locationOf(update), names);
  }
  return { request: { branch, name, environments: listed, edits, updates, shared }, conflicts };
}

/** For each edited location, the environments whose updates edit it, in scan order. */
function editorsOf(environments: readonly EnvironmentUpdates[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const { environment, updates } of environments)
    for (const key of new Set(updates.map(locationOf)))
      users.set(key, [...(users.get(key) ?? []), environment]);
  return users;
}

/**
 * The requests a run keeps: one per scanned environment, or one for all of them; and the other
 * mode's branches (of every configured environment), whose requests this run replaces.
 */
export function planImageRequests(
  environments: readonly EnvironmentUpdates[],
  mode: ImageRequestMode,
  configured: readonly string[],
): ImageRequestPlan {
  const users = editorsOf(environments);
  const built =
    mode === 'grouped'
      ? [request(GROUPED_BRANCH, 'all', environments, users)]
      : environments.map((e) => request(`${IMAGE_BRANCH_PREFIX}${e.environment}`, e.environment, [e], users));
  const requests = built.map((b) => b.request);
  const wanted = new Set(requests.map((r) => r.branch));
  const other =
    mode === 'grouped'
      ? configured.map((name) => ({ branch: `${IMAGE_BRANCH_PREFIX}${name}`, name }))
      : [{ branch: GROUPED_BRANCH, name: 'all' }];
  // An environment named `all` shares the grouped branch: it is wanted, never stale.
  const stale = other.filter(({ branch }) => !wanted.has(branch));
  return { mode, requests, stale, conflicts: built.flatMap((b) => b.conflicts) };
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

function table(updates: readonly ImageUpdate[]): string[] {
  return [
    '| Where | Image | From | To | Digest | Policy |',
    '| --- | --- | --- | --- | --- | --- |',
    ...updates.map(
      (u) =>
        `| \`${cell(u.file)}:${u.line}\` | \`${cell(u.image)}\` | \`${cell(u.from)}\` | \`${cell(u.to)}\` | ${u.digest ? `\`${u.digest}\`` : '—'} | ${cell(u.policy)} |`,
    ),
  ];
}

function withUpdates(request: ImageRequest): readonly EnvironmentUpdates[] {
  return request.environments.filter((e) => e.updates.length > 0);
}

/** Markdown listing each bump, by environment, with the registry's digest of the new tag. */
export function requestBody(request: ImageRequest, mode: ImageRequestMode): string {
  const environments = withUpdates(request);
  const names = environments.map((e) => `**${e.environment}**`).join(', ');
  const intro =
    mode === 'grouped'
      ? [
          `Image updates for ${names} allowed by the \`image-policies\` in slipway.yaml, in one pull request for every environment (\`image-pull-requests: grouped\`).`,
          ...environments.flatMap((e) => ['', `### ${e.environment}`, '', ...table(e.updates)]),
        ]
      : [
          `Image updates for ${names} allowed by the \`image-policies\` in slipway.yaml.`,
          '',
          ...table(environments.flatMap((e) => e.updates)),
        ];
  return [
    ...intro,
    ...sharedSection(request, mode),
    '',
    'Slipway plans this pull request against the live cluster like any other; merging applies it.',
    'This branch is rewritten by the next scheduled run: commit fixes elsewhere.',
  ].join('\n');
}

/**
 * A line several environments use changes them all on merge: a reviewer of the dev request must
 * see that staging changes too (its own request carries the same edit).
 */
function sharedSection(request: ImageRequest, mode: ImageRequestMode): string[] {
  const seen = new Set<string>();
  const rows: string[] = [];
  for (const update of withUpdates(request).flatMap((e) => e.updates)) {
    const key = locationOf(update);
    const names = request.shared.get(key);
    if (names === undefined || seen.has(key)) continue;
    seen.add(key);
    rows.push(
      `- \`${cell(update.file)}:${update.line}\` (\`${cell(update.image)}\` ${cell(update.from)} → ${cell(update.to)}): affects ${names.map((n) => `**${n}**`).join(', ')}`,
    );
  }
  if (rows.length === 0) return [];
  const lead =
    mode === 'grouped'
      ? '**Shared lines.** These lines are used by more than one environment: each edit changes all of them.'
      : `**Shared lines.** These lines are used by more than one environment: merging this pull request changes them all, not only **${request.name}** (their own image pull requests carry the same edit).`;
  return ['', lead, '', ...rows];
}

export function requestTitle(request: ImageRequest): string {
  const updates = withUpdates(request).flatMap((e) => e.updates);
  const summary = [
    ...new Set(updates.map((u) => `${u.image.split('/').pop() ?? u.image} ${u.to.split('@')[0] ?? ''}`)),
  ];
  const names = withUpdates(request).map((e) => e.environment);
  return `Update images in ${names.join(', ')}: ${summary.join(', ')}`.slice(0, 250);
}

export function commitMessage(request: ImageRequest): string {
  const environments = withUpdates(request);
  const several = environments.length > 1;
  const affects = (u: ImageUpdate): string => {
    const names = request.shared.get(locationOf(u));
    return names === undefined ? '' : ` (affects ${names.join(', ')})`;
  };
  const lines = environments.flatMap((e) =>
    e.updates.map(
      (u) =>
        `${several ? `${e.environment}: ` : ''}${u.file}:${u.line} ${u.image} ${u.from} -> ${u.to}${affects(u)}`,
    ),
  );
  return `Update images in ${environments.map((e) => e.environment).join(', ')}\n\n${lines.join('\n')}\n`;
}

/** Why a request is closed when its own run found nothing left to bump. */
export function emptyComment(request: ImageRequest): string {
  return request.name === 'all' && request.environments.length !== 1
    ? 'No image updates left for any environment: closing.'
    : 'No image updates left for this environment: closing.';
}

/** Why the other mode's request is closed, with the requests this run keeps instead. */
export function replacedComment(mode: ImageRequestMode, urls: readonly string[]): string {
  if (mode === 'grouped') {
    const now =
      'Slipway now keeps one pull request for every environment (`image-pull-requests: grouped` in slipway.yaml)';
    return urls.length === 0
      ? `${now}, and no image updates are left: closing.`
      : `${now}: the image updates are in ${urls.join(', ')}. Closing this one.`;
  }
  const now =
    'Slipway now keeps one pull request per environment (`image-pull-requests: per-environment` in slipway.yaml)';
  return `${now}: closing this one; each environment with image updates gets its own${urls.length === 0 ? '' : ` (this run: ${urls.join(', ')})`}.`;
}
