/** The Batch page's preview in words: what the job would caption, and what it passes over or changes. */
import type { BatchItem, BatchPreview, ExistingPolicy } from '../../../../shared/batchTypes';

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** What the preview shows, and what the listing passed over on the way to the last image shown. */
export function previewSummary(preview: BatchPreview): string {
  const { skippedExisting, excluded, ignored } = preview.counts;
  const notes = [
    skippedExisting > 0 ? `${plural(skippedExisting, 'image', 'images')} passed over because a caption file exists (policy: skip)` : null,
    excluded > 0 ? `${plural(excluded, 'image', 'images')} left out by the globs` : null,
    ignored > 0 ? plural(ignored, 'file that is not an image', 'files that are not images') : null,
  ].filter((note) => note !== null);
  return `The first images the job would caption${notes.length > 0 ? `; on the way, ${notes.join(', ')}` : ''}.`;
}

/**
 * What the job will do about an image's caption file under the policy the
 * preview was made with, in words; null when there is nothing to say (no
 * caption file, or no caption files written at all).
 */
export function existingNote(item: BatchItem, preview: BatchPreview, policy: ExistingPolicy | null): string | null {
  if (item.outcome === 'skipped') return 'skipped: it has a caption file';
  if (policy === null || !preview.existingCaptionFiles.includes(item.path)) return null;
  switch (policy) {
    case 'append':
      return 'caption file exists: the caption is appended';
    case 'overwrite':
      return 'caption file exists: it is overwritten';
    case 'skip':
      return null;
  }
}
