/**
 * The implementation side of the contract: one handler per method. The type
 * `Handlers` makes a missing handler a compile error; `dispatch` validates the
 * request against the contract's schema before any handler sees it.
 */
import type { z } from 'zod';
import {
  methods,
  type MethodName,
  type ParsedRequestOf,
  type ResponseOf,
} from '../../shared/contract';
import { ApiError, toErrorData, type Envelope } from '../../shared/errors';

export interface CallContext {
  transport: 'ipc' | 'websocket' | 'cli';
}

export type Handler<M extends MethodName> = (
  request: ParsedRequestOf<M>,
  context: CallContext,
) => Promise<ResponseOf<M>>;

export type Handlers = { [M in MethodName]: Handler<M> };

/** Handlers for the methods of one namespace group, e.g. `'system.' | 'engine.'`. */
export type HandlersFor<Prefix extends string> = {
  [M in MethodName as M extends `${Prefix}${string}` ? M : never]: Handler<M>;
};

function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

function issuesOf(error: z.ZodError) {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(request)',
    message: issue.message,
  }));
}

/** Validates and runs one call; never throws, always answers an envelope. */
export async function dispatch(
  handlers: Handlers,
  method: string,
  request: unknown,
  context: CallContext,
): Promise<Envelope<unknown>> {
  if (!isMethodName(method)) {
    return { ok: false, error: { code: 'unknown_method', message: `Unknown method "${method}".` } };
  }
  const parsed = methods[method].request.safeParse(request ?? {});
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    const first = issues[0];
    const message = first ? `Invalid ${method} request: ${first.path}: ${first.message}` : `Invalid ${method} request.`;
    return { ok: false, error: new ApiError('invalid_request', message, issues).toData() };
  }
  try {
    const handler = handlers[method] as (req: unknown, ctx: CallContext) => Promise<unknown>;
    const value = await handler(parsed.data, context);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: toErrorData(error) };
  }
}
