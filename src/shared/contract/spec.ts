/**
 * The building blocks of the API contract: a method is a request schema plus
 * a phantom response type, an event is a named payload type. Each domain
 * declares its methods and events in its own file; index.ts joins them.
 */
import { z } from 'zod';

/** A method: its request schema plus a phantom response type. */
export interface MethodSpec<Req extends z.ZodType, Res> {
  readonly request: Req;
  readonly summary: string;
  /** Phantom: carries the response type, never read at run time. */
  readonly response?: Res;
}

/** `returns<Res>()(schema, summary)` declares a method answering `Res`. */
export const returns =
  <Res>() =>
  <Req extends z.ZodType>(request: Req, summary: string): MethodSpec<Req, Res> => ({ request, summary });

/** An event carrying `Payload`; the value only names it at run time. */
export interface EventSpec<Payload> {
  readonly summary: string;
  readonly payload?: Payload;
}
export const event = <Payload>(summary: string): EventSpec<Payload> => ({ summary });

export const none = z.object({}).strict();
export const id = z.string().min(1).max(200);
