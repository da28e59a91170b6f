/** The field manager of every Slipway write, so ownership is recognisable across runs. */
export const FIELD_MANAGER_NAME = 'slipway';
/** Label every applied object carries: the environment that owns it (prune checks it first). */
export const OWNER_LABEL = 'slipway.dev/environment';
/** Annotation that keeps an object out of prune. */
export const PRUNE_ANNOTATION = 'slipway.dev/prune';
/** Annotation that applies an object without waiting for its health (`disabled`). */
export const WAIT_ANNOTATION = 'slipway.dev/wait';
export const HELM_KEEP_ANNOTATION = 'helm.sh/resource-policy';
