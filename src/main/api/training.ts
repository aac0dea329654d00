/** `training.*` handlers: thin, the work is in TrainingService and the engine. */
import { placed } from '../../shared/placement';
import { presets, runConfigJsonSchema, searchSpace, type RunPreset } from '../../shared/runConfig';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function trainingHandlers(services: Services): HandlersFor<'training.'> {
  const presetList = (): RunPreset[] => Object.values(presets).map((preset) => ({ ...preset }));
  return {
    async 'training.start'(request) {
      return services.training.start(request.config, { tags: request.tags, ...placed(request.placement) });
    },
    async 'training.resume'(request) {
      return services.training.resume(request.runId, placed(request.placement));
    },
    async 'training.stop'(request) {
      return services.training.stop(request.runId);
    },
    async 'training.estimate'(request) {
      return services.training.estimate(request.config, request.steps);
    },
    async 'training.presets'() {
      return presetList();
    },
    async 'training.configSchema'() {
      return { jsonSchema: runConfigJsonSchema(), searchSpace: searchSpace(), presets: presetList() };
    },
    async 'training.active'() {
      return services.training.activeRuns();
    },
  };
}

