/** Images for the HTML report, embedded as data URIs: thumbnails, and a word's heatmap over the image. */
import sharp from 'sharp';
import { heatmapRgba } from '../../shared/heatmap';

const INPUT_LIMIT = { limitInputPixels: 100_000_000, animated: false } as const;

function dataUri(buffer: Buffer, type: string): string {
  return `data:${type};base64,${buffer.toString('base64')}`;
}

/** The image scaled to fit `size` (its aspect kept), as JPEG. */
export async function thumbnailUri(path: string, size: number): Promise<string> {
  const body = await sharp(path, INPUT_LIMIT).rotate().resize(size, size, { fit: 'inside' }).flatten({ background: '#ffffff' }).jpeg({ quality: 82 }).toBuffer();
  return dataUri(body, 'image/jpeg');
}

/**
 * One word's attention over the image as the encoder saw it (squashed or
 * centre-cropped to a square), `size` pixels square, smoothed as in the app.
 */
export async function heatmapTileUri(
  path: string,
  weights: readonly number[],
  grid: { rows: number; cols: number },
  fit: 'squash' | 'center-crop',
  size: number,
): Promise<string> {
  const overlay = Buffer.from(heatmapRgba(weights, grid, size, size, { smooth: true }).buffer);
  const body = await sharp(path, INPUT_LIMIT)
    .rotate()
    .resize(size, size, { fit: fit === 'squash' ? 'fill' : 'cover' })
    .flatten({ background: '#ffffff' })
    .composite([{ input: overlay, raw: { width: size, height: size, channels: 4 } }])
    .jpeg({ quality: 80 })
    .toBuffer();
  return dataUri(body, 'image/jpeg');
}
