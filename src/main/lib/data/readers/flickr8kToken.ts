/**
 * Flickr8k as originally released: `Flickr8k.token.txt` (`name.jpg#N<TAB>caption`)
 * with the split lists `Flickr_8k.trainImages.txt`, `Flickr_8k.devImages.txt`
 * and `Flickr_8k.testImages.txt` beside it (dev is our val); images in
 * `Flicker8k_Dataset/` (sic) next to the `Flickr8k_text/` folder.
 */
import { basename, dirname, join } from 'node:path';
import { ProblemLog } from './problems';
import { firstLine, isDir, isFile, type DatasetReader } from './reader';
import { numberedLines, readText } from './textFile';
import { looksLikeTokenLine, parseTokenLines } from './tokenLines';
import type { SplitName } from './types';

const SPLIT_FILES: [SplitName, string][] = [
  ['train', 'Flickr_8k.trainImages.txt'],
  ['val', 'Flickr_8k.devImages.txt'],
  ['test', 'Flickr_8k.testImages.txt'],
];

export const flickr8kTokenReader: DatasetReader = {
  format: 'flickr8k-token',
  description: 'Flickr8k (original): Flickr8k.token.txt plus Flickr_8k.{train,dev,test}Images.txt, images in Flicker8k_Dataset/',
  async locate(path) {
    if (await isDir(path)) {
      for (const file of [join(path, 'Flickr8k.token.txt'), join(path, 'Flickr8k_text', 'Flickr8k.token.txt')]) {
        if (await isFile(file)) return file;
      }
      return null;
    }
    const name = basename(path).toLowerCase();
    return name.includes('8k') && name.includes('token') && looksLikeTokenLine(await firstLine(path)) ? path : null;
  },
  async read(file) {
    const images = parseTokenLines(await readText(file), file);
    const dir = dirname(file);
    const problems = new ProblemLog();
    let hasSplits = false;
    for (const [split, name] of SPLIT_FILES) {
      const splitFile = join(dir, name);
      if (!(await isFile(splitFile))) continue;
      hasSplits = true;
      for (const { line, text } of numberedLines(await readText(splitFile))) {
        const image = images.get(text.trim());
        if (image) image.split = split;
        else problems.add({ kind: 'unknown-image', message: `${text.trim()} is listed in ${name} but has no captions.`, file: splitFile, line, image: text.trim() });
      }
    }
    if (hasSplits) {
      for (const image of images.values()) {
        if (!image.split) problems.add({ kind: 'not-in-split', message: `${image.name} is in no split file; it is left out of train, val and test.`, file, line: image.line, image: image.name });
      }
    }
    const parent = dirname(dir);
    return {
      format: 'flickr8k-token',
      source: file,
      images,
      hasSplits,
      imageDirCandidates: [
        join(parent, 'Flicker8k_Dataset'),
        join(parent, 'Flickr8k_Dataset'),
        join(dir, 'Flicker8k_Dataset'),
        join(dir, 'Flickr8k_Dataset'),
        join(parent, 'Images'),
        join(dir, 'Images'),
        dir,
        parent,
      ],
      problems,
    };
  },
};
