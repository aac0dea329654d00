/**
 * Delimited text (CSV, TSV, pipe-separated) per RFC 4180: quoted fields may
 * hold the delimiter, doubled quotes and line breaks. Each record remembers
 * the line it starts on, so errors point at the right line.
 */
import { DatasetFormatError } from './types';

export interface DelimitedRecord {
  line: number;
  fields: string[];
}

export function parseDelimited(text: string, file: string, delimiter: string): DelimitedRecord[] {
  const records: DelimitedRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let quoteLine = 0;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0]?.trim() === '')) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (ch === '\n') line += 1;
        field += ch;
      }
      i += 1;
      continue;
    }
    if (ch === '"' && field.trim() === '') {
      quoted = true;
      quoteLine = line;
      field = '';
    } else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
      endRecord();
      line += 1;
      recordLine = line;
    } else {
      field += ch;
    }
    i += 1;
  }
  if (quoted) throw new DatasetFormatError(file, { line: quoteLine }, 'a quoted field is never closed (missing ")');
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

/** Which of the usual delimiters a header line uses. */
export function sniffDelimiter(headerLine: string): string {
  const candidates = [',', '\t', '|', ';'];
  let best = ',';
  let bestCount = 0;
  for (const candidate of candidates) {
    const count = headerLine.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}
