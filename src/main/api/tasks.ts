/** `tasks.*` handlers: the one list of long work, with stop and resume for every kind. */
import { ApiError } from '../../shared/errors';
import { taskPlacementOf } from '../../shared/placement';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function taskHandlers(services: Services): HandlersFor<'tasks.'> {
  return {
    async 'tasks.list'(request) {
      return services.store.tasks.list({
        ...(request.states ? { states: request.states } : {}),
        ...(request.kinds ? { kinds: request.kinds } : {}),
        limit: request.limit,
      });
    },
    async 'tasks.get'(request) {
      const task = await services.store.tasks.get(request.taskId);
      if (!task) throw new ApiError('not_found', `No task with id ${request.taskId}.`);
      return task;
    },
    async 'tasks.stop'(request) {
      return { stopping: await services.tasks.stop(request.taskId) };
    },
    async 'tasks.resume'(request) {
      return services.tasks.resume(request.taskId);
    },
    async 'tasks.place'(request) {
      return services.tasks.place(request.taskId, taskPlacementOf(request.placement)!);
    },
  };
}
