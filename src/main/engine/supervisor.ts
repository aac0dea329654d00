/**
 * Owns a worker process (the engine, or the dataset process): starts it,
 * routes calls, progress and events by id, and when the process dies fails
 * every call in flight with a clear error and starts a new one. The main
 * process never runs a tensor op or parses a large file itself.
 */
import { ApiError } from '../../shared/errors';
import type { EngineStatus } from '../../shared/types';
import type { EngineChannel, EngineSpawner } from './channel';
import type { EngineHandlers } from './handlers/index';
import type { EngineProgress, EventsOf, FromEngine, HandlerMap, MethodOf, ParamsOf, ResultOf } from './protocol';

interface PendingCall {
  method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress?: (progress: EngineProgress) => void;
  onEvent?: (event: unknown) => void;
}

/** How a caller follows one call: its progress, its typed events, and a token that cancels it. */
export interface CallOptions<E = never> {
  onProgress?: (progress: EngineProgress) => void;
  onEvent?: (event: E) => void;
  signal?: AbortSignal;
}

export interface SupervisorHooks {
  onStatus?: (status: EngineStatus) => void;
  onLog?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

/** Restarts allowed inside `RESTART_WINDOW_MS` before the supervisor gives up. */
const MAX_RAPID_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export class EngineSupervisor<H extends HandlerMap = EngineHandlers> {
  private channel: EngineChannel | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private restarts = 0;
  private recentRestarts: number[] = [];
  private lastExit: string | null = null;
  private state: EngineStatus['state'] = 'stopped';
  private stopping = false;

  constructor(
    private readonly spawn: EngineSpawner,
    private readonly hooks: SupervisorHooks = {},
    /** How the process is named in errors and logs. */
    private readonly name = 'engine',
  ) {}

  status(): EngineStatus {
    return { state: this.state, pid: this.channel?.pid ?? null, restarts: this.restarts, lastExit: this.lastExit };
  }

  /** Starts the engine if needed and resolves once it reported ready. */
  start(): Promise<void> {
    if (this.ready) return this.ready;
    this.stopping = false;
    this.setState(this.restarts > 0 ? 'restarting' : 'starting');
    const channel = this.spawn();
    this.channel = channel;
    this.ready = new Promise<void>((resolve, reject) => {
      channel.onMessage((message) => {
        if (message.type === 'ready') {
          this.setState('ready');
          resolve();
        } else {
          this.route(message);
        }
      });
      channel.onExit((reason) => {
        reject(new ApiError('engine_unavailable', `The ${this.name} process stopped before it was ready (${reason}).`));
        this.handleExit(channel, reason);
      });
    });
    // A start failure is reported to callers of `call`; never leave it unhandled.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  async call<M extends MethodOf<H>>(method: M, params: ParamsOf<H, M>, options: CallOptions<EventsOf<H, M>> = {}): Promise<ResultOf<H, M>> {
    if (options.signal?.aborted) throw new ApiError('cancelled', `${method} was cancelled.`);
    await this.start();
    const channel = this.channel;
    if (!channel) throw new ApiError('engine_unavailable', `The ${this.name} process is not running.`);
    const id = this.nextId++;
    return new Promise<ResultOf<H, M>>((resolve, reject) => {
      const onAbort = () => channel.send({ type: 'cancel', id });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => options.signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        method,
        resolve: (value) => {
          settle();
          resolve(value as ResultOf<H, M>);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
        onProgress: options.onProgress,
        // The engine sends only the events its handler declared (EngineContext<E>.emit).
        onEvent: options.onEvent as ((event: unknown) => void) | undefined,
      });
      channel.send({ type: 'call', id, method, params });
    });
  }

  /** Kills the engine on purpose and starts a fresh one. */
  async restart(): Promise<EngineStatus> {
    const channel = this.channel;
    if (channel) {
      const gone = new Promise<void>((resolve) => channel.onExit(() => resolve()));
      channel.kill();
      await gone;
    }
    await this.start();
    return this.status();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const channel = this.channel;
    if (!channel) return;
    const gone = new Promise<void>((resolve) => channel.onExit(() => resolve()));
    channel.kill();
    await gone;
  }

  private route(message: Exclude<FromEngine, { type: 'ready' }>): void {
    if (message.type === 'log') {
      this.hooks.onLog?.(message.level, message.message);
      return;
    }
    const call = this.pending.get(message.id);
    if (!call) return;
    if (message.type === 'progress') {
      call.onProgress?.(message.progress);
    } else if (message.type === 'event') {
      call.onEvent?.(message.event);
    } else if (message.type === 'result') {
      this.pending.delete(message.id);
      call.resolve(message.value);
    } else {
      this.pending.delete(message.id);
      call.reject(ApiError.fromData(message.error));
    }
  }

  private handleExit(channel: EngineChannel, reason: string): void {
    if (this.channel !== channel) return;
    this.channel = null;
    this.ready = null;
    this.lastExit = reason;
    const inFlight = [...this.pending.values()];
    this.pending.clear();
    for (const call of inFlight) {
      call.reject(
        new ApiError(
          'engine_crashed',
          `The ${this.name} process stopped (${reason}) while running ${call.method}. ` +
            `A new ${this.name} process has been started; run it again, or resume it if it was a training run.`,
        ),
      );
    }
    if (this.stopping) {
      this.setState('stopped');
      return;
    }
    this.setState('crashed');
    this.hooks.onLog?.('error', `The ${this.name} process stopped: ${reason}.`);
    const now = Date.now();
    this.recentRestarts = this.recentRestarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (this.recentRestarts.length >= MAX_RAPID_RESTARTS) {
      this.hooks.onLog?.('error', `The ${this.name} process crashed ${MAX_RAPID_RESTARTS} times in a minute; not restarting it again.`);
      return;
    }
    this.recentRestarts.push(now);
    this.restarts += 1;
    void this.start().catch(() => undefined);
  }

  private setState(state: EngineStatus['state']): void {
    this.state = state;
    this.hooks.onStatus?.(this.status());
  }
}
