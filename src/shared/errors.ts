/**
 * Errors as they cross the API boundary. Handlers throw `ApiError`; the
 * transports carry `{ code, message, issues }`; the client rebuilds an
 * `ApiError`, so the renderer shows the same words whichever transport ran.
 */

export type ApiErrorCode =
  | 'invalid_request'
  | 'unknown_method'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'cancelled'
  | 'engine_crashed'
  | 'engine_unavailable'
  | 'internal';

export interface ApiIssue {
  /** Dotted path of the offending field, e.g. `config.lstmUnits`. */
  path: string;
  message: string;
}

export interface ApiErrorData {
  code: ApiErrorCode;
  message: string;
  issues?: ApiIssue[];
}

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly issues: ApiIssue[];

  constructor(code: ApiErrorCode, message: string, issues: ApiIssue[] = []) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.issues = issues;
  }

  toData(): ApiErrorData {
    return this.issues.length > 0
      ? { code: this.code, message: this.message, issues: this.issues }
      : { code: this.code, message: this.message };
  }

  static fromData(data: ApiErrorData): ApiError {
    return new ApiError(data.code, data.message, data.issues ?? []);
  }
}

/** Anything thrown, as data a client can show. Unknown errors keep their message. */
export function toErrorData(error: unknown): ApiErrorData {
  if (error instanceof ApiError) return error.toData();
  if (error instanceof Error) return { code: 'internal', message: error.message };
  return { code: 'internal', message: String(error) };
}

/** The envelope every transport carries for a method's answer. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ApiErrorData };
