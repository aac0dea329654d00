/**
 * Verifying a dataset's images by decoding them, at import rather than
 * when training finds them: every image is fully decoded at thumbnail size
 * with sharp (a truncated PNG or JPEG, a text file named `.jpg`, a
 * decompression bomb all fail here), a few at a time, with progress and
 * cancellation. Every bad image comes back with its reason, to be stored in
 * the dataset's problems.
 *
 * The header checks of `readDataset` (imageFiles.ts) stay: they are cheap
 * and run on every read; this is the thorough pass, run once as a task.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { DatasetProblem, ProblemReport } from '../../../../shared/datasetsTypes';
import { ApiError } from '../../../../shared/errors';
import { mapConcurrent } from './imageFiles';
import { MAX_EXAMPLES_PER_KIND } from './problems';

/** Largest image accepted, in pixels: bigger is a decompression bomb or a scan no caption model needs. */
export const MAX_IMAGE_PIXELS = 100_000_000;
/** Edge of the thumbnail each image is decoded to. */
export const VERIFY_SIZE = 64;
/** Images decoded at once (sharp uses its own threads for each). */
export const VERIFY_CONCURRENCY = 4;

export interface ImageToVerify {
  id: string;
  file: string;
}

export type BadImageKind = 'missing-image' | 'unreadable-image';

export interface BadImage {
  id: string;
  file: string;
  kind: BadImageKind;
  /** In words: "truncated (the file ends before the image does)". */
  reason: string;
}

/** Progress of a verification, as the engine streams it. */
export interface VerifyImagesProgress {
  done: number;
  total: number;
  bad: number;
}

export interface VerifyImagesResult {
  checked: number;
  bad: BadImage[];
}

export interface VerifyImagesOptions {
  signal?: AbortSignal;
  onProgress?(progress: VerifyImagesProgress): void;
  concurrency?: number;
  maxPixels?: number;
}

/** One image: null when it decodes, else why not. */
export async function verifyImage(image: ImageToVerify, maxPixels = MAX_IMAGE_PIXELS): Promise<BadImage | null> {
  const bad = (kind: BadImageKind, reason: string): BadImage => ({ id: image.id, file: image.file, kind, reason });
  try {
    const info = await stat(image.file);
    if (!info.isFile()) return bad('missing-image', 'not a file');
    if (info.size === 0) return bad('unreadable-image', 'empty file (0 bytes)');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? bad('missing-image', 'file not found') : bad('unreadable-image', (error as Error).message);
  }
  try {
    const meta = await sharp(image.file, { limitInputPixels: false }).metadata();
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > maxPixels) {
      return bad('unreadable-image', `${meta.width}×${meta.height} pixels, over the ${(maxPixels / 1e6).toFixed(0)}-megapixel limit (a decompression bomb?)`);
    }
    // A full decode (failing on truncation) to a thumbnail: cheap, and it reads every byte of the image data.
    await sharp(image.file, { limitInputPixels: maxPixels, failOn: 'truncated', animated: false, pages: 1 })
      .resize(VERIFY_SIZE, VERIFY_SIZE, { fit: 'inside' })
      .raw()
      .toBuffer();
    return null;
  } catch (error) {
    return bad('unreadable-image', describeDecodeError((error as Error).message));
  }
}

/** sharp's message, as a reason a person can act on. */
export function describeDecodeError(message: string): string {
  if (/unsupported image format|not a known file format|bad seek/i.test(message)) return 'not an image (its contents are not a supported image format)';
  if (/premature end|truncated|unexpected end|end of (file|stream)|short read|read error|not enough data/i.test(message)) {
    return `truncated (the file ends before the image does: ${message.trim()})`;
  }
  if (/pixel limit/i.test(message)) return `too large: ${message.trim()}`;
  return `cannot be decoded: ${message.trim()}`;
}

/**
 * Decodes every image at thumbnail size, `concurrency` at a time. Reports
 * progress after each image; throws ApiError `cancelled` when `signal`
 * aborts (the images in flight finish first).
 */
export async function verifyImages(images: readonly ImageToVerify[], options: VerifyImagesOptions = {}): Promise<VerifyImagesResult> {
  const bad: BadImage[] = [];
  let done = 0;
  await mapConcurrent(images, options.concurrency ?? VERIFY_CONCURRENCY, async (image) => {
    if (options.signal?.aborted) return;
    const problem = await verifyImage(image, options.maxPixels);
    if (problem) bad.push(problem);
    done += 1;
    options.onProgress?.({ done, total: images.length, bad: bad.length });
  });
  if (options.signal?.aborted) throw new ApiError('cancelled', `Image verification was cancelled after ${done} of ${images.length} images.`);
  // libvips keeps one error buffer for all threads, so when several images
  // fail at once one can carry another's message, or lose its own detail
  // ("corrupt header: " with nothing after it). Every image whose reason was
  // not recognised is decoded again alone, after the concurrent pass, for its
  // own reason; only failed images pay for it.
  for (const [index, problem] of bad.entries()) {
    if (problem.kind !== 'unreadable-image' || (!problem.reason.startsWith('cannot be decoded') && !problem.reason.includes('\n'))) continue;
    bad[index] = (await verifyImage({ id: problem.id, file: problem.file }, options.maxPixels)) ?? problem;
  }
  // Completion order depends on timing; the report does not.
  const order = new Map(images.map((image, index) => [image.id, index]));
  bad.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  return { checked: done, bad };
}

/** The bad images as dataset problems, one per image. */
export function badImageProblems(bad: readonly BadImage[]): DatasetProblem[] {
  return bad.map((image) => ({ kind: image.kind, message: `${image.id}: ${image.reason} (${image.file}).`, image: image.id, file: image.file }));
}

/**
 * A dataset's problem report with the verification's findings added: counts
 * grow by every bad image, examples keep the usual few per kind (the full
 * list is `badImageProblems`).
 */
export function withBadImages(report: ProblemReport, bad: readonly BadImage[]): ProblemReport {
  const counts = { ...report.counts };
  const examples = [...report.examples];
  const shown = new Map<string, number>();
  for (const example of examples) shown.set(example.kind, (shown.get(example.kind) ?? 0) + 1);
  for (const problem of badImageProblems(bad)) {
    counts[problem.kind] = (counts[problem.kind] ?? 0) + 1;
    const already = shown.get(problem.kind) ?? 0;
    if (already < MAX_EXAMPLES_PER_KIND) examples.push(problem);
    shown.set(problem.kind, already + 1);
  }
  return { counts, examples };
}
