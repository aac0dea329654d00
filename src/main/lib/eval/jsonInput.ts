/**
 * Reading user-supplied JSON files with errors that name the file and the
 * JSON path of the bad value (`refs.json: $.annotations[12].caption: ...`),
 * so a user can find the problem in a 200 MB annotations file.
 */
import { readFileSync } from 'node:fs';
import { ApiError } from '../../../shared/errors';

export class JsonInputError extends ApiError {
  constructor(
    readonly file: string,
    readonly jsonPath: string,
    readonly problem: string,
  ) {
    super('invalid_request', `${file}: ${jsonPath}: ${problem}`);
    this.name = 'JsonInputError';
  }
}

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ApiError(code === 'ENOENT' ? 'not_found' : 'invalid_request', `${file}: cannot read (${(error as Error).message}).`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new JsonInputError(file, '$', `not valid JSON (${(error as Error).message}).`);
  }
}

/** A value at a JSON path, with typed accessors that fail with that path. */
export class JsonCursor {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly value: unknown,
  ) {}

  static root(file: string, value: unknown): JsonCursor {
    return new JsonCursor(file, '$', value);
  }

  fail(problem: string): never {
    throw new JsonInputError(this.file, this.path, problem);
  }

  isObject(): boolean {
    return typeof this.value === 'object' && this.value !== null && !Array.isArray(this.value);
  }

  has(key: string): boolean {
    return this.isObject() && Object.prototype.hasOwnProperty.call(this.value, key);
  }

  /** The field `key` of this object (missing fields fail unless `optional`). */
  field(key: string, optional = false): JsonCursor {
    if (!this.isObject()) this.fail(`expected an object, found ${describe(this.value)}.`);
    const path = /^[A-Za-z_$][\w$]*$/.test(key) ? `${this.path}.${key}` : `${this.path}[${JSON.stringify(key)}]`;
    if (!this.has(key) && !optional) this.fail(`missing the field "${key}".`);
    return new JsonCursor(this.file, path, (this.value as Record<string, unknown>)[key]);
  }

  items(): JsonCursor[] {
    if (!Array.isArray(this.value)) this.fail(`expected an array, found ${describe(this.value)}.`);
    return this.value.map((item, index) => new JsonCursor(this.file, `${this.path}[${index}]`, item));
  }

  string(): string {
    if (typeof this.value !== 'string') this.fail(`expected a string, found ${describe(this.value)}.`);
    return this.value;
  }

  /** An image id: COCO uses integers, other sets strings; both become strings here. */
  id(): string {
    if (typeof this.value === 'number' && Number.isFinite(this.value)) return String(this.value);
    if (typeof this.value === 'string' && this.value.length > 0) return this.value;
    return this.fail(`expected an image id (a number or a non-empty string), found ${describe(this.value)}.`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  if (value === undefined) return 'nothing';
  return `${typeof value} ${String(value)}`;
}
