/**
 * The Flickr token-file line format shared by Flickr8k and Flickr30k:
 * `1000268201_693b08cb0e.jpg#0<TAB>A child in a pink dress ...`.
 */
import { addCaption, type AnnotatedImage } from './assemble';
import { numberedLines } from './textFile';
import { DatasetFormatError } from './types';

export const TOKEN_LINE = /^([^\t#]+)#(\d+)\t(.*)$/;

export function looksLikeTokenLine(line: string): boolean {
  return TOKEN_LINE.test(line);
}

export function parseTokenLines(text: string, file: string): Map<string, AnnotatedImage> {
  const images = new Map<string, AnnotatedImage>();
  for (const { line, text: raw } of numberedLines(text)) {
    const match = TOKEN_LINE.exec(raw);
    if (!match) throw new DatasetFormatError(file, { line }, 'expected "IMAGE#N<TAB>caption"');
    addCaption(images, (match[1] as string).trim(), { text: match[3] as string, line }, { file, line });
  }
  return images;
}
