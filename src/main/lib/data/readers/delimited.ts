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
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0]?.trim() === '')) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
  };
  // Runs of ordinary characters are copied with one slice each, so a megabyte-long field costs a megabyte, not a million appends.
  const special = new RegExp(`[${delimiter.replace(/[\\\]^-]/g, '\\$&')}\\n\\r"]`, 'g');
  let i = 0;
  while (i < text.length) {
    special.lastIndex = i;
    const match = special.exec(text);
    const at = match ? match.index : text.length;
    field += text.slice(i, at);
    if (!match) break;
    const ch = match[0];
    if (ch === '"' && field.trim() === '') {
      const quoteLine = line;
      field = '';
      let from = at + 1;
      for (;;) {
        const close = text.indexOf('"', from);
        if (close < 0) throw new DatasetFormatError(file, { line: quoteLine }, 'a quoted field is never closed (missing ")');
        const chunk = text.slice(from, close);
        for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', nl + 1)) line += 1;
        field += chunk;
        if (text[close + 1] === '"') {
          field += '"';
          from = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
    } else if (ch === '"') {
      field += '"';
      i = at + 1;
    } else if (ch === delimiter) {
      fields.push(field);
      field = '';
      i = at + 1;
    } else {
      i = at + 1;
      if (ch === '\r' && text[i] === '\n') i += 1;
      endRecord();
      line += 1;
      recordLine = line;
    }
  }
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
