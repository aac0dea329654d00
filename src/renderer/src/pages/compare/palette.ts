/** Run colours on the compare page: distinct for the first dozen, then a golden-angle hue walk for up to fifty. */
const FIRST = ['#6ea8fe', '#f2c14e', '#8bd5a8', '#f07178', '#c792ea', '#89ddff', '#ffcb6b', '#82aaff', '#c3e88d', '#ff5370', '#b2ccd6', '#f78c6c'];

export function runColor(index: number): string {
  if (index < FIRST.length) return FIRST[index]!;
  const hue = Math.round((index * 137.508) % 360);
  return `hsl(${hue} 70% 65%)`;
}

/** The colour with an alpha, for band fills: hex `#rrggbb` or `hsl(h s l)`. */
export function withAlpha(color: string, alpha: number): string {
  if (color.startsWith('#')) {
    const value = Number.parseInt(color.slice(1), 16);
    return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${alpha})`;
  }
  return color.replace(/\)$/, ` / ${alpha})`);
}

/** A colour scale for metric values scaled to 0..1: low values blue, high ones yellow. */
export function metricColor(t: number): string {
  const clamped = Math.min(1, Math.max(0, t));
  const hue = 220 - 170 * clamped;
  return `hsl(${Math.round(hue)} 80% ${Math.round(45 + 20 * clamped)}%)`;
}
