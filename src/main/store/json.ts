/** JSON columns: parsed on the way out, checked to be the right shape on the way in. */
import type { JsonObject, JsonValue } from '../../shared/storeTypes';
import { ApiError } from '../../shared/errors';

/** A value as the plain JSON a JSON column keeps: no classes, no undefined fields. */
export function plainJson(value: object): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

export function parseObject(text: string): JsonObject {
  const value = JSON.parse(text) as JsonValue;
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

export function parseStringArray(text: string): string[] {
  const value = JSON.parse(text) as unknown;
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function parseNumberRecord(text: string): Record<string, number> {
  const record: Record<string, number> = {};
  for (const [key, value] of Object.entries(parseObject(text))) if (typeof value === 'number') record[key] = value;
  return record;
}

/** Serializes a value that must be a plain JSON object; `field` names it in the error. */
export function objectJson(value: unknown, field: string): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ApiError('invalid_request', `${field} must be a JSON object.`, [{ path: field, message: 'expected an object' }]);
  }
  return JSON.stringify(value);
}

/** Serializes a record of finite numbers (scores, checkpoint metrics). */
export function numberRecordJson(value: Record<string, number>, field: string): string {
  for (const [key, number] of Object.entries(value)) {
    if (typeof number !== 'number' || !Number.isFinite(number)) {
      throw new ApiError('invalid_request', `${field}.${key} must be a finite number (got ${String(number)}).`, [
        { path: `${field}.${key}`, message: 'expected a finite number' },
      ]);
    }
  }
  return JSON.stringify(value);
}
