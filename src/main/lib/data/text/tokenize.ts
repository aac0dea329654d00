/**
 * Caption normalization and tokenization, following the pipeline that the
 * coco-caption evaluation code applies before BLEU, METEOR, ROUGE-L and CIDEr:
 * the Stanford PTBTokenizer (`-lowerCase`), then removal of punctuation tokens.
 * Training and evaluation use this same function, so a model is scored on the
 * tokens it was trained on.
 *
 * The rule, step by step:
 * 1. Unicode NFKC (full-width letters, ligatures and compatibility forms
 *    become their plain equivalents), then lowercase.
 * 2. Typographic quotes become ASCII quotes; en and em dashes become spaces.
 * 3. Tokens are: numbers with inner `.` or `,` ("3.5", "1,000"); words of
 *    letters and digits joined by inner `-`, `'`, `.`, `&` or `/`
 *    ("t-shirt", "rock'n'roll", "r&b"); any other single non-space character.
 * 4. English clitics are split off as PTB does: "don't" → "do n't",
 *    "man's" → "man 's", likewise 're 've 'll 'd 'm.
 * 5. Punctuation tokens are dropped: coco-caption's list
 *    ('' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;) plus the
 *    characters PTB turns into those tokens: " ( ) [ ] { }. Other symbols
 *    (& $ % # @ + = * /) stay, as they do in coco-caption.
 */

/** Tokens coco-caption removes, and the raw characters PTB maps onto them. */
const DROPPED = new Set([
  "''", "'", '``', '`', '-lrb-', '-rrb-', '-lcb-', '-rcb-', '.', '?', '!', ',', ':', '-', '--', '...', ';',
  '"', '(', ')', '[', ']', '{', '}',
]);

// A standalone clitic ("'s" in already tokenized text) stays one token, so tokenizing is idempotent.
const TOKEN = /\d+(?:[.,]\d+)+|[\p{L}\p{N}\p{M}]+(?:[-'.&/][\p{L}\p{N}\p{M}]+)*|'(?:s|re|ve|ll|d|m)(?![\p{L}\p{N}])|\S/gu;
const NEGATION = /^(.+)(n't)$/;
const CLITIC = /^(.+)('s|'re|'ve|'ll|'d|'m)$/;

/** NFKC, lowercase, ASCII quotes, dashes as spaces. Keeps punctuation. */
export function normalizeCaption(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/[\u201c\u201d\u201e\u201f\u2033]/g, '"')
    .replace(/[\u2013\u2014\u2015]/g, ' ');
}

/** The words of a caption as training and the metrics see them. */
export function tokenizeCaption(text: string): string[] {
  const out: string[] = [];
  for (const match of normalizeCaption(text).matchAll(TOKEN)) {
    for (const token of splitClitics(match[0])) {
      if (!DROPPED.has(token)) out.push(token);
    }
  }
  return out;
}

/** A caption's tokens joined by single spaces: the form duplicate checks and the metrics compare. */
export function canonicalCaption(text: string): string {
  return tokenizeCaption(text).join(' ');
}

function splitClitics(word: string): string[] {
  const negation = NEGATION.exec(word);
  if (negation) return [negation[1] as string, negation[2] as string];
  const clitic = CLITIC.exec(word);
  if (clitic) return [clitic[1] as string, clitic[2] as string];
  return [word];
}
