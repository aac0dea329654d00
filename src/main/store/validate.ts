/** Checks on values the store is handed, with errors that name the field. */
import { ApiError } from '../../shared/errors';

function invalid(field: string, message: string): never {
  throw new ApiError('invalid_request', `${field} ${message}.`, [{ path: field, message }]);
}

export function requireId(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) invalid(field, `must be a positive integer (got ${String(value)})`);
  return value;
}

export function requireCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) invalid(field, `must be a non-negative integer (got ${String(value)})`);
  return value;
}

export function requireFinite(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) invalid(field, `must be a finite number (got ${String(value)})`);
  return value;
}

export function requireText(value: string, field: string, maxLength = 10_000): string {
  if (typeof value !== 'string' || value.trim() === '') invalid(field, 'must be a non-empty string');
  if (value.length > maxLength) invalid(field, `must be at most ${maxLength} characters`);
  return value;
}

/** Trimmed, non-empty, unique, in first-seen order. */
export function normalizeTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const tag of tags) {
    const trimmed = tag.trim();
    if (trimmed.length > 100) invalid('tags', `"${trimmed.slice(0, 20)}…" is longer than 100 characters`);
    if (trimmed) seen.add(trimmed);
  }
  return [...seen];
}

export function notFound(what: string, id: number | string): never {
  throw new ApiError('not_found', `${what} ${String(id)} does not exist.`);
}

export function requireIntegerIn(value: number, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    invalid(field, `must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}
