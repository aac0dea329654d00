/** The Batch page's preview in words: the summary of what was passed over, and the note on each image's caption file. */
import { describe, expect, it } from 'vitest';
import { existingNote, previewSummary } from '../../src/renderer/src/pages/batch/preview';
import type { BatchItem, BatchPreview } from '../../src/shared/batchTypes';

const item = (path: string, outcome: BatchItem['outcome']): BatchItem => ({
  path,
  relativePath: path.slice(1),
  outcome,
  caption: outcome === 'captioned' ? 'a dog' : null,
  editedCaption: null,
  confidence: outcome === 'captioned' ? -1 : null,
  logProb: null,
  error: outcome === 'skipped' ? `caption file exists: ${path}.txt` : null,
});

function preview(counts: Partial<BatchPreview['counts']>, existingCaptionFiles: string[] = []): BatchPreview {
  return {
    modelPath: '/models/m',
    decoding: {} as BatchPreview['decoding'],
    items: [],
    counts: { total: null, captioned: 6, skippedExisting: 0, failed: 0, ignored: 0, excluded: 0, ...counts },
    existingCaptionFiles,
  };
}

describe('preview summary', () => {
  it('says only what happened, with singular and plural right', () => {
    expect(previewSummary(preview({}))).toBe('The first images the job would caption.');
    expect(previewSummary(preview({ skippedExisting: 1, ignored: 1 }))).toBe(
      'The first images the job would caption; on the way, 1 image passed over because a caption file exists (policy: skip), 1 file that is not an image.',
    );
    expect(previewSummary(preview({ skippedExisting: 3, excluded: 2, ignored: 4 }))).toBe(
      'The first images the job would caption; on the way, 3 images passed over because a caption file exists (policy: skip), 2 images left out by the globs, 4 files that are not images.',
    );
  });
});

describe('caption-file note', () => {
  it('marks skipped images, and images whose caption file the preview policy changes', () => {
    const shown = preview({}, ['/a.jpg']);
    expect(existingNote(item('/b.jpg', 'skipped'), shown, 'skip')).toBe('skipped: it has a caption file');
    expect(existingNote(item('/a.jpg', 'captioned'), shown, 'overwrite')).toBe('caption file exists: it is overwritten');
    expect(existingNote(item('/a.jpg', 'captioned'), shown, 'append')).toBe('caption file exists: the caption is appended');
    // No caption file, or no caption files written at all: nothing to say.
    expect(existingNote(item('/c.jpg', 'captioned'), shown, 'overwrite')).toBeNull();
    expect(existingNote(item('/a.jpg', 'captioned'), shown, null)).toBeNull();
  });
});
