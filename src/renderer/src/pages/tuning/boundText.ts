/**
 * A search-space bound as the editor shows and reads it. Learning rates and
 * weight decays sit at 1e-6..1e-2: a number box shows 0.000001 cut to
 * "0.00000", which reads as zero, so tiny (and huge) bounds are written in
 * exponent form, and the box reads either form back.
 */
export function boundText(value: number): string {
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toExponential().replace('e+', 'e');
  return String(value);
}

/** The number typed ("1e-6", "0.000001", "-2"), or null when it is none. */
export function parseBound(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}
