/**
 * Long loops over every caption of a COCO-sized dataset (600k captions take
 * seconds to tokenize) run in the main process for import, stats and search.
 * They hand the event loop back every few thousand items, so IPC, the UI's
 * other calls and progress events keep flowing meanwhile.
 */

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function mapYielding<T, R>(items: readonly T[], fn: (item: T, index: number) => R, every = 2000): Promise<R[]> {
  const out = new Array<R>(items.length);
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % every === 0) await nextTurn();
    out[i] = fn(items[i] as T, i);
  }
  return out;
}
