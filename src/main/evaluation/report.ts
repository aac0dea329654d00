/**
 * The gallery as one self-contained HTML file: every image (embedded),
 * its generated and reference captions, per-image scores, the grounded
 * verdict with the wrong claims marked, and for the first images the
 * attention heatmap of every generated word. No script and no external
 * file: it opens in any browser, without the workbench.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CaptionExplanation, GalleryItem, GalleryPage, GalleryQuery, GalleryReport } from '../../shared/galleryTypes';
import { heatmapTileUri, thumbnailUri } from './reportImages';

export interface ReportInput {
  out: string;
  query: GalleryQuery;
  page: GalleryPage;
  heatmapImages: number;
  explain(item: GalleryItem): Promise<CaptionExplanation>;
}

const THUMB = 192;
const TILE = 112;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(3));

export async function writeGalleryReport(input: ReportInput): Promise<GalleryReport> {
  const { page } = input;
  const cards: string[] = [];
  let heatmapImages = 0;
  let attentionNote: string | null = null;
  for (const [index, item] of page.items.entries()) {
    let heatmaps = '';
    if (index < input.heatmapImages && item.imagePath && attentionNote === null) {
      try {
        const explanation = await input.explain(item);
        if (!explanation.hasAttention) {
          attentionNote = `This model's decoder (${explanation.variant}) has no attention, so the report has no heatmaps.`;
        } else {
          heatmaps = await heatmapStrip(item.imagePath, explanation);
          heatmapImages += 1;
        }
      } catch (error) {
        // One unreadable image costs its heatmaps, not the report.
        heatmaps = `<div class="heatmaps"><p class="warn">No heatmaps: ${escapeHtml((error as Error).message)}</p></div>`;
      }
    }
    cards.push(await cardHtml(item, heatmaps));
  }
  const html = documentHtml(input, cards, attentionNote);
  await mkdir(dirname(input.out), { recursive: true });
  await writeFile(input.out, html);
  return { path: input.out, images: page.items.length, heatmapImages, bytes: (await stat(input.out)).size };
}

async function heatmapStrip(imagePath: string, explanation: CaptionExplanation): Promise<string> {
  const chosen = explanation.captions[0]!;
  const tiles: string[] = [];
  for (const word of chosen.words) {
    if (!word.attention || !explanation.grid) continue;
    const uri = await heatmapTileUri(imagePath, word.attention, explanation.grid, explanation.fit, TILE);
    tiles.push(
      `<figure class="tile"><img src="${uri}" width="${TILE}" height="${TILE}" alt="attention for ${escapeHtml(word.word)}"><figcaption>${escapeHtml(word.word)}</figcaption></figure>`,
    );
  }
  const warning = explanation.diagnosis?.nearlyUniform
    ? `<p class="warn">Attention is nearly uniform (mean normalized entropy ${explanation.diagnosis.meanUniformity.toFixed(3)}): the model barely looks at particular regions, so these maps say little.</p>`
    : '';
  return `<div class="heatmaps">${warning}<div class="strip">${tiles.join('')}</div></div>`;
}

async function cardHtml(item: GalleryItem, heatmaps: string): Promise<string> {
  let image = '<div class="noimage">no image file</div>';
  if (item.imagePath) {
    try {
      image = `<img class="thumb" src="${await thumbnailUri(item.imagePath, THUMB)}" alt="${escapeHtml(item.imageId)}">`;
    } catch (error) {
      image = `<div class="noimage">${escapeHtml((error as Error).message)}</div>`;
    }
  }
  const caption = item.grounded
    ? item.grounded.segments
        .map((s) => (s.status === 'wrong' ? `<mark class="wrong" title="wrong ${escapeHtml(s.attributes.join(', '))}">${escapeHtml(s.text)}</mark>` : s.status === 'right' ? `<span class="right">${escapeHtml(s.text)}</span>` : escapeHtml(s.text)))
        .join(' ')
    : escapeHtml(item.caption);
  const scores = Object.entries(item.scores)
    .map(([key, value]) => `<span><b>${escapeHtml(key)}</b> ${fmt(value)}</span>`)
    .join(' ');
  const verdict = item.grounded
    ? `<p class="verdict">grounded: ${item.grounded.correct} right, ${item.grounded.wrong} wrong${item.grounded.errorTypes.length ? ` (${escapeHtml(item.grounded.errorTypes.join(', '))})` : ''}</p>`
    : '';
  return `<article class="card">
  <div class="media">${image}</div>
  <div class="text">
    <p class="id">${escapeHtml(item.imageId)} · ${escapeHtml(item.split)} · evaluation ${item.evaluationId}</p>
    <p class="generated">${caption}</p>
    ${verdict}
    <p class="scores">${scores}</p>
    <ul class="refs">${item.references.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>
  </div>
  ${heatmaps}
</article>`;
}

function documentHtml(input: ReportInput, cards: string[], attentionNote: string | null): string {
  const { page, query } = input;
  const evaluations = page.evaluations
    .map((e) => {
      const aggregate = Object.entries(e.aggregate)
        .map(([key, value]) => `${escapeHtml(key)} ${fmt(value)}`)
        .join(' · ');
      const decoding = Object.entries(e.decoding)
        .map(([key, value]) => `${escapeHtml(key)}=${escapeHtml(String(value))}`)
        .join(', ');
      const checkpoint = e.checkpoint ? `${escapeHtml(e.checkpoint.path)}${e.checkpoint.epoch !== null ? ` (epoch ${e.checkpoint.epoch})` : ''}` : 'unknown';
      return `<li><b>Evaluation ${e.id}</b> (run ${e.runId ?? '—'}, ${escapeHtml(e.split)} split, ${e.imageCount} images): ${aggregate}<br><small>checkpoint ${checkpoint}; decoding ${decoding}</small></li>`;
    })
    .join('');
  const filters = [
    `sorted by ${escapeHtml(query.sort)} ${query.direction === 'asc' ? 'ascending (worst first)' : 'descending (best first)'}`,
    query.word ? `word "${escapeHtml(query.word)}" in ${escapeHtml(query.wordIn)} captions` : null,
    query.split ? `split ${escapeHtml(query.split)}` : null,
    query.groundedError ? `grounded error ${escapeHtml(query.groundedError)}` : null,
  ]
    .filter(Boolean)
    .join('; ');
  const shown = page.items.length < page.total ? `${page.items.length} of ${page.total}` : `${page.total}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Captioning gallery: evaluation ${page.evaluations.map((e) => e.id).join(', ')}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #f6f7f9; }
h1 { font-size: 20px; margin: 0 0 8px; }
header ul { padding-left: 18px; }
.card { display: grid; grid-template-columns: ${THUMB + 8}px 1fr; gap: 12px; background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 12px; margin: 12px 0; }
.thumb { max-width: ${THUMB}px; max-height: ${THUMB}px; border-radius: 4px; }
.noimage { width: ${THUMB}px; height: 80px; display: grid; place-items: center; color: #888; background: #eee; font-size: 12px; }
.id { color: #667; font-size: 12px; margin: 0; }
.generated { font-size: 16px; margin: 4px 0; }
mark.wrong { background: #ffd2d2; color: #a00; border-bottom: 2px solid #d00; padding: 0 2px; }
.right { border-bottom: 2px solid #3a3; }
.verdict { margin: 2px 0; font-size: 12px; color: #444; }
.scores span { margin-right: 12px; font-family: ui-monospace, monospace; font-size: 12px; }
.refs { color: #445; margin: 6px 0 0; padding-left: 18px; }
.heatmaps { grid-column: 1 / -1; }
.strip { display: flex; flex-wrap: wrap; gap: 6px; }
.tile { margin: 0; text-align: center; font-size: 12px; }
.tile img { display: block; border-radius: 3px; }
.warn { background: #fff4d6; border: 1px solid #e8c66a; padding: 6px 8px; border-radius: 4px; }
</style>
</head>
<body>
<header>
<h1>Captioning gallery</h1>
<ul>${evaluations}</ul>
<p>${shown} images, ${filters}. Scores are per image (coco-caption definitions; CIDEr-D with the evaluation's document frequencies). Wrong grounded claims are <mark class="wrong">marked</mark>, right ones <span class="right">underlined</span>. Heatmaps show the decoder's attention weights for each generated word over the image as the encoder saw it.</p>
${attentionNote ? `<p class="warn">${escapeHtml(attentionNote)}</p>` : ''}
${page.warnings.map((w) => `<p class="warn">${escapeHtml(w)}</p>`).join('')}
</header>
<main>
${cards.join('\n')}
</main>
</body>
</html>
`;
}
