/**
 * The truncated normal distribution as Optuna's samplers/_tpe/_truncnorm.py
 * computes it (itself derived from SciPy): log-CDF with an asymptotic series
 * in the far left tail, the probability mass of an interval worked out in the
 * left tail for accuracy, the inverse log-CDF by Newton's method, and the
 * quantile function used to draw samples. Scalar functions: the Parzen
 * estimator loops over kernels itself.
 */
import { erf, erfc } from './erf';

const NORM_PDF_LOG_C = Math.log(Math.sqrt(2 * Math.PI));
const NDTRI_EXP_APPROX_C = Math.sqrt(3) / Math.PI;
const SQRT2 = 2 ** 0.5;
const FLOAT_EPSILON = 2 ** -52;

/** Standard normal CDF, with erfc in the tails (Optuna's _ndtr_single). */
export function ndtrSingle(a: number): number {
  const x = a / SQRT2;
  if (x < -1 / SQRT2) return 0.5 * erfc(-x);
  if (x < 1 / SQRT2) return 0.5 + 0.5 * erf(x);
  return 1 - 0.5 * erfc(x);
}

/** Standard normal CDF through erf only (Optuna's vectorised _ndtr, used for the central mass). */
function ndtr(a: number): number {
  return 0.5 + 0.5 * erf(a / SQRT2);
}

/** log Φ(a), accurate far into the left tail. */
export function logNdtr(a: number): number {
  if (a > 6) return -ndtrSingle(-a); // log(1 - ε) ≈ -ε
  if (a > -20) return Math.log(ndtrSingle(a));
  // Asymptotic series of the Mills ratio.
  const logLhs = -0.5 * a ** 2 - Math.log(-a) - 0.5 * Math.log(2 * Math.PI);
  let lastTotal = 0;
  let rightHandSide = 1;
  let numerator = 1;
  let denomFactor = 1;
  const denomCons = 1 / a ** 2;
  let sign = 1;
  let i = 0;
  while (Math.abs(lastTotal - rightHandSide) > FLOAT_EPSILON) {
    i += 1;
    lastTotal = rightHandSide;
    sign = -sign;
    denomFactor *= denomCons;
    numerator *= 2 * i - 1;
    rightHandSide += sign * numerator * denomFactor;
  }
  return logLhs + Math.log(rightHandSide);
}

/** log(e^p - e^q) for p >= q. */
function logDiff(logP: number, logQ: number): number {
  return logP + Math.log1p(-Math.exp(logQ - logP));
}

/** log(e^p + e^q), as numpy's logaddexp. */
function logSum(logP: number, logQ: number): number {
  if (logP === logQ) return logP + Math.LN2;
  const max = Math.max(logP, logQ);
  const diff = -Math.abs(logP - logQ);
  return max + Math.log1p(Math.exp(diff));
}

/** log of the standard normal probability mass in [a, b]. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a)); // left tail
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b)); // right tail, mirrored into the left
  // Central: 1 - both tails, avoiding cancellation when the mass is near 1.
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/** Log density at x of a normal(loc, scale) truncated to the standardised interval [a, b]. */
export function truncnormLogPdf(x: number, a: number, b: number, loc: number, scale: number): number {
  const z = (x - loc) / scale;
  if (a === b) return NaN;
  if (z < a || z > b) return -Infinity;
  return -(z ** 2) / 2 - NORM_PDF_LOG_C - logGaussMass(a, b) - Math.log(scale);
}

/** x such that log Φ(x) = y (y <= 0), by Newton's method from an asymptotic or logistic first guess. */
export function ndtriExp(y: number): number {
  // Near zero, solve for -x in the other tail, where the function is better conditioned.
  const flipped = y > -1e-2;
  const z = flipped ? Math.log(-Math.expm1(y)) : y;
  let x = z < -5 ? -Math.sqrt(-2 * (z + NORM_PDF_LOG_C)) : -NDTRI_EXP_APPROX_C * Math.log(Math.expm1(-z));
  for (let i = 0; i < 100; i++) {
    const logNdtrX = logNdtr(x);
    const logNormPdfX = -0.5 * x ** 2 - NORM_PDF_LOG_C;
    const dx = (logNdtrX - z) * Math.exp(logNdtrX - logNormPdfX);
    x -= dx;
    if (Math.abs(dx) < 1e-8 * Math.abs(x)) break;
  }
  return flipped ? -x : x;
}

/** Quantile q of the standard normal truncated to [a, b]. */
export function truncnormPpf(q: number, a: number, b: number): number {
  if (a === b) return NaN;
  if (q === 0) return a;
  if (q === 1) return b;
  const logMass = logGaussMass(a, b);
  if (a < 0) return ndtriExp(logSum(logNdtr(a), Math.log(q) + logMass));
  return -ndtriExp(logSum(logNdtr(-b), Math.log1p(-q) + logMass));
}
