/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/** Calls `report` at most every `intervalMs` while work progresses, and once at the end. */
export function progressReporter(
  total: number,
  intervalMs: number,
  report: (done: number, total: number) => void,
): { tick(): void; finish(): void } {
  let done = 0;
  let last = Date.now();
  return {
    tick(): void {
      done++;
      if (Date.now() - last >= intervalMs) {
        last = Date.now();
        report(done, total);
      }
    },
    finish(): void {
      report(done, total);
    },
  };
}
