/**
 * Builds an `onInterrupt` for the engine: while a cleanup is registered, SIGINT/SIGTERM (a ^C, a
 * cancelled workflow run) run it — bounded to 5 s — and then end the process with `exitCode`.
 */
export function interruptHandler(
  exitCode: (signal: NodeJS.Signals) => number,
  announce: (signal: NodeJS.Signals) => void = () => undefined,
): (cleanup: () => Promise<void>) => () => void {
  return (cleanup) => {
    const handler = (signal: NodeJS.Signals): void => {
      announce(signal);
      const timeout = setTimeout(() => process.exit(exitCode(signal)), 5_000);
      void cleanup().finally(() => {
        clearTimeout(timeout);
        process.exit(exitCode(signal));
      });
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  };
}

/** The exit code of a run ended by a signal, as shells report it (128 + signal number). */
export function exitForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}
