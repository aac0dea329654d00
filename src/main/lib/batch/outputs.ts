/**
 * The job-wide output files: one CSV, one JSONL (path, caption, score, model,
 * decoding) and a COCO results JSON (`[{"image_id", "caption"}]`, the image
 * id being the path relative to the folder). Each streams from the stored
 * results into a temporary file and appears under its name only when
 * complete, so a reader never sees half a file and memory does not grow with
 * the number of images. A reviewed caption replaces the model's.
 */
import type { BatchItem } from '../../../shared/batchTypes';
import { AtomicFileWriter } from './atomicWrite';

export type OutputFormat = 'csv' | 'jsonl' | 'coco';

export interface OutputContext {
  /** The model's name as outputs state it. */
  model: string;
  /** The decoding settings in words or as JSON text. */
  decoding: string;
}

/** The caption a reviewed item is published with. */
export function finalCaption(item: Pick<BatchItem, 'caption' | 'editedCaption'>): string | null {
  return item.editedCaption ?? item.caption;
}

/** RFC 4180: quoted when it holds a comma, quote, or line break; quotes doubled. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_HEADER = 'path,caption,score,model,decoding\n';

function csvLine(item: BatchItem, caption: string, context: OutputContext): string {
  return `${[item.path, caption, item.confidence, context.model, context.decoding].map(csvField).join(',')}\n`;
}

function jsonlLine(item: BatchItem, caption: string, context: OutputContext): string {
  return `${JSON.stringify({ path: item.path, caption, score: item.confidence, model: context.model, decoding: context.decoding })}\n`;
}

/**
 * Writes one output file from items in any number of pages. Answers how many
 * captions it holds. Items without a caption (failed, skipped) are left out.
 */
export async function writeOutputFile(
  format: OutputFormat,
  target: string,
  pages: AsyncIterable<readonly BatchItem[]>,
  context: OutputContext,
): Promise<number> {
  const writer = new AtomicFileWriter(target);
  let count = 0;
  try {
    if (format === 'csv') await writer.write(CSV_HEADER);
    if (format === 'coco') await writer.write('[');
    for await (const page of pages) {
      let chunk = '';
      for (const item of page) {
        const caption = finalCaption(item);
        if (item.outcome !== 'captioned' || caption === null) continue;
        if (format === 'csv') chunk += csvLine(item, caption, context);
        else if (format === 'jsonl') chunk += jsonlLine(item, caption, context);
        else chunk += `${count > 0 ? ',' : ''}\n  ${JSON.stringify({ image_id: item.relativePath, caption })}`;
        count += 1;
      }
      if (chunk) await writer.write(chunk);
    }
    if (format === 'coco') await writer.write(count > 0 ? '\n]\n' : ']\n');
    await writer.commit();
    return count;
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
