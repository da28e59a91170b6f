/** `slipway init`: placeholder until the scaffolding lands; says so instead of pretending. */
export function runInit(_repo: string, _force: boolean, stdout: (text: string) => void): number {
  stdout('slipway init: not available in this version yet; copy the workflows from the README\n');
  return 1;
}
