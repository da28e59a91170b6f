/** Slipway's version, recorded in the ApplySet tooling annotation and printed by --version. */
export const VERSION = '0.1.0';
