/** The charts' colours and number labels, shared by the chart.js charts and the canvas plots (no DOM here). */
export const AXIS_COLOR = '#9aa3b2';
export const GRID_COLOR = '#2a2f3a';
export const LEGEND_COLOR = '#e6e8ee';

const plain = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 3 });
/** Tiny values (BLEU early in training, learning rates) and huge ones read better in exponent form. */
export const tickText = (value: number): string => (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5) ? value.toExponential(1) : plain.format(value));
