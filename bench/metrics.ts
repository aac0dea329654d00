/**
 * `npm run bench -- metrics [images]`: scoring throughput of the coco-caption
 * metrics on a synthetic corpus shaped like a COCO test split (5 references
 * of about 10 words per image). Prints one JSON line per metric.
 */
import { bleu, ciderD, rougeL, scoreCorpus, type ScoringItem } from '../src/main/lib/metrics';

/** A small deterministic generator, so every run scores the same corpus. */
function corpus(images: number): ScoringItem[] {
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const words = Array.from({ length: 2000 }, (_, i) => `w${i}`);
  // Zipf-like: low ids are frequent, as in real captions.
  const word = () => words[Math.floor(words.length * next() ** 3)]!;
  const sentence = () => Array.from({ length: 8 + Math.floor(next() * 6) }, word).join(' ');
  return Array.from({ length: images }, (_, i) => ({
    imageId: String(i),
    candidate: sentence(),
    references: Array.from({ length: 5 }, sentence),
  }));
}

function time(label: string, images: number, body: () => unknown): void {
  body(); // warm-up
  const repeats = 3;
  const start = performance.now();
  for (let i = 0; i < repeats; i++) body();
  const seconds = (performance.now() - start) / 1000 / repeats;
  process.stdout.write(`${JSON.stringify({ bench: 'metrics', metric: label, images, seconds: Number(seconds.toFixed(4)), imagesPerSecond: Math.round(images / seconds) })}\n`);
}

export async function run(args: string[]): Promise<void> {
  const images = Number(args[0] ?? 5000);
  if (!Number.isInteger(images) || images < 1) throw new Error(`images must be a positive integer (got "${args[0]}").`);
  const items = corpus(images);
  time('BLEU-1..4', images, () => bleu(items));
  time('ROUGE-L', images, () => rougeL(items));
  time('CIDEr-D', images, () => ciderD(items));
  time('all', images, () => scoreCorpus(items));
}
