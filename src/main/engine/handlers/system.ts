/** Engine methods about the engine itself: backend facts and diagnostics. */
import { ApiError } from '../../../shared/errors';
import type { BackendInfo } from '../../../shared/types';
import { initBackend, tensorMemory, tfjsVersion } from '../../ml/backend';
import type { EngineContext } from '../protocol';

export const systemEngineHandlers = {
  async 'backend.info'(_params: Record<string, never>): Promise<BackendInfo & { tfjsVersion: string }> {
    const info = await initBackend();
    return { ...info, tfjsVersion: tfjsVersion() };
  },

  /** Live tensors in the engine: the flat-memory checks read this. */
  async 'backend.memory'(_params: Record<string, never>): Promise<{ numTensors: number; numBytes: number }> {
    return tensorMemory();
  },

  /** Waits `ms` in `steps` with progress; honours cancellation. Used by the supervisor tests. */
  async 'diagnostics.wait'(params: { ms: number; steps: number }, ctx: EngineContext): Promise<{ steps: number }> {
    const perStep = params.ms / params.steps;
    for (let step = 1; step <= params.steps; step++) {
      if (ctx.signal.aborted) throw new ApiError('cancelled', `Cancelled after ${step - 1} steps.`);
      await new Promise((resolve) => setTimeout(resolve, perStep));
      ctx.progress({ stage: 'waiting', done: step, total: params.steps });
    }
    return { steps: params.steps };
  },

  /** Ends the engine process abruptly, as a native crash would. */
  async 'diagnostics.crash'(_params: Record<string, never>): Promise<never> {
    process.exit(70);
  },
};
