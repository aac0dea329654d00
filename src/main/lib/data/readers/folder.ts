/**
 * A folder of images with same-name `.txt` sidecars (`cat.jpg` + `cat.txt`,
 * one caption per non-blank line), as batch captioning writes them. Images
 * under a top-level `train/`, `val/` (or `dev/`, `validation/`) or `test/`
 * folder take that split.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnnotatedImage } from './assemble';
import { parseSplit } from './columns';
import { listImagesRecursive } from './imageFiles';
import { ProblemLog } from './problems';
import { isDir, isFile, type DatasetReader } from './reader';
import { numberedLines, readText } from './textFile';

export const folderReader: DatasetReader = {
  format: 'folder',
  description: 'A folder of images with same-name .txt captions (one per line); train/ val/ test/ subfolders give splits',
  async locate(path) {
    if (!(await isDir(path))) return null;
    return (await listImagesRecursive(path, 2)).length > 0 ? path : null;
  },
  async read(dir) {
    const names = await listImagesRecursive(dir);
    const images = new Map<string, AnnotatedImage>();
    const problems = new ProblemLog();
    const sidecars = new Set<string>();
    let anySplit = false;
    for (const name of names) {
      const sidecar = join(dir, name.replace(/\.[^./]+$/, '.txt'));
      sidecars.add(sidecar);
      const top = name.includes('/') ? (name.split('/')[0] as string) : '';
      const split = top ? (parseSplit(top) ?? null) : null;
      anySplit ||= split !== null;
      const image: AnnotatedImage = { name, captions: [], split, file: join(dir, name) };
      if (await isFile(sidecar)) {
        image.file = sidecar;
        image.captions = numberedLines(await readText(sidecar)).map(({ line, text }) => ({ text, line }));
        image.line = 1;
      }
      images.set(name, image);
    }
    await reportOrphans(dir, '', sidecars, problems);
    return { format: 'folder', source: dir, images, hasSplits: anySplit, imageDirCandidates: [dir], problems };
  },
};

/** `.txt` files with no image of the same name: usually a renamed or deleted image. */
async function reportOrphans(root: string, relative: string, sidecars: Set<string>, problems: ProblemLog, depth = 0): Promise<void> {
  const entries = await readdir(join(root, relative), { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory() && depth < 8) await reportOrphans(root, rel, sidecars, problems, depth + 1);
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.txt') && !sidecars.has(join(root, rel))) {
      problems.add({ kind: 'orphan-caption-file', message: `${rel} has no image with the same name.`, file: join(root, rel) });
    }
  }
}
