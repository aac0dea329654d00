/**
 * One image file → RGB bytes at the encoder's input size, with sharp.
 *
 * Handles JPEG, PNG, WebP, GIF (first frame), TIFF (first page), AVIF/HEIF:
 * EXIF orientation is applied, CMYK and grayscale become sRGB, alpha is
 * composited onto white (the colour under transparent pixels is arbitrary,
 * often black, and must not leak into the features). Input larger than
 * `maxPixels` is refused before decoding, so a decompression bomb costs
 * nothing; truncated and corrupt files throw `ImageDecodeError`, which
 * callers record per item and skip.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';

export type ResizeFit = 'squash' | 'center-crop';

export interface DecodeOptions {
  /** Edge of the square output, e.g. 224. */
  size: number;
  /** `squash` stretches the whole image to the square; `center-crop` fills it and crops the longer side. */
  fit: ResizeFit;
  /** Largest input (width × height) accepted. */
  maxPixels: number;
}

export const DEFAULT_DECODE_OPTIONS: DecodeOptions = { size: 224, fit: 'squash', maxPixels: 64_000_000 };

export type DecodeFailure = 'not-found' | 'not-an-image' | 'too-large' | 'truncated' | 'corrupt';

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
  constructor(
    readonly file: string,
    readonly reason: DecodeFailure,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

export interface DecodedImage {
  /** size × size × 3 bytes, rows top to bottom, RGB interleaved (HWC). */
  data: Uint8Array;
  size: number;
}

function classify(message: string): DecodeFailure {
  if (/missing|ENOENT|no such file/i.test(message)) return 'not-found';
  if (/pixel limit/i.test(message)) return 'too-large';
  if (/unsupported image format|bad seek|not a known file format/i.test(message)) return 'not-an-image';
  if (/premature end|truncated|unexpected end|end of (file|stream)|read error|short read/i.test(message)) return 'truncated';
  return 'corrupt';
}

/** The reason in words a user can act on, with the decoder's own message where it helps. */
function failureText(reason: DecodeFailure, message: string, maxPixels: number): string {
  const own = message.trim().replace(/^Error:\s*/, '');
  switch (reason) {
    case 'too-large':
      return `image is larger than the ${maxPixels.toLocaleString('en-US')}-pixel limit (a decompression bomb or a huge scan)`;
    case 'not-found':
      return 'file not found';
    case 'not-an-image':
      return 'not an image: its contents are not a supported format (JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF)';
    case 'truncated':
      return `truncated: the file ends before the image does (${own})`;
    case 'corrupt':
      return /^unknown error\.?$/i.test(own) || own === '' ? 'corrupt image data: the decoder could not read it (damaged or truncated file)' : `corrupt image data: ${own}`;
  }
}

/**
 * Why a file could not be decoded, for the cases sharp names poorly (a
 * missing file, an empty one); null when the file is there and not empty.
 * Looked at only after a failure, so a good image costs one trip to libuv's
 * thread pool, not two (a batch keeps all its images queued there while the
 * model holds the JavaScript thread, and a stat first would wait on it).
 */
async function missingOrEmpty(file: string, name: string): Promise<ImageDecodeError | null> {
  const size = await stat(file).then((s) => s.size, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ENOTDIR' ? null : -1));
  if (size === null) return new ImageDecodeError(name, 'not-found', 'file not found');
  if (size === 0) return new ImageDecodeError(name, 'not-an-image', 'empty file (0 bytes)');
  return null;
}

/**
 * libvips keeps one error buffer for all of its threads, so when several
 * images fail at once one can lose its message to another ("unknown error",
 * which reads as corrupt data, for a file that is merely truncated). A decode
 * that fails as corrupt is therefore tried once more alone: it waits for the
 * decodes in flight, and decodes that start meanwhile wait for it. Only
 * failed images pay for it.
 */
export class DecodeGate {
  private running = 0;
  private exclusive: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  async shared<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    this.running += 1;
    try {
      return await work();
    } finally {
      this.running -= 1;
      if (this.running === 0) this.drained?.();
    }
  }

  async alone<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    let release!: () => void;
    this.exclusive = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.running > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      this.drained = null;
      return await work();
    } finally {
      this.exclusive = null;
      release();
    }
  }
}

const gate = new DecodeGate();

/** Decodes, orients, converts to sRGB and resizes one image. `label` names it in errors when `input` is a buffer. */
export async function decodeImage(input: string | Buffer, options: DecodeOptions = DEFAULT_DECODE_OPTIONS, label?: string): Promise<DecodedImage> {
  const name = label ?? (typeof input === 'string' ? input : '(buffer)');
  // sharp calls an empty input an "unsupported image format": say what it is.
  if (typeof input !== 'string' && input.length === 0) throw new ImageDecodeError(name, 'not-an-image', 'empty file (0 bytes)');
  try {
    return await gate.shared(() => decodeWithSharp(input, options, name));
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    const named = typeof input === 'string' ? await missingOrEmpty(input, name) : null;
    if (named) throw named;
    let message = (error as Error).message;
    if (classify(message) === 'corrupt') {
      const again = await gate.alone(() => decodeWithSharp(input, options, name)).then(
        (image) => image,
        (retryError: unknown) => (retryError instanceof ImageDecodeError ? retryError : (retryError as Error)),
      );
      if (!(again instanceof Error)) return again;
      if (again instanceof ImageDecodeError) throw again;
      message = again.message;
    }
    const reason = classify(message);
    throw new ImageDecodeError(name, reason, failureText(reason, message, options.maxPixels));
  }
}

async function decodeWithSharp(input: string | Buffer, options: DecodeOptions, name: string): Promise<DecodedImage> {
  // sharp applies the steps in its own fixed order (shrink-on-load first for JPEG and WebP); flatten,
  // the sRGB conversion and removeAlpha cost nothing on an opaque sRGB image.
  const { data, info } = await sharp(input, { limitInputPixels: options.maxPixels, failOn: 'truncated', animated: false, pages: 1 })
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(options.size, options.size, { fit: options.fit === 'squash' ? 'fill' : 'cover', position: 'centre' })
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== options.size || info.height !== options.size) {
    throw new ImageDecodeError(name, 'corrupt', `decoded to ${info.width}x${info.height}x${info.channels}, expected ${options.size}x${options.size}x3`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), size: options.size };
}
