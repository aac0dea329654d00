/** `system.*` and `engine.*` handlers. */
import { arch, platform } from 'node:os';
import { cpuInfo, gpuInfo, memoryInfo } from '../core/hardware';
import { appVersion, libraryVersions } from '../core/versions';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

export function systemHandlers(services: Services): HandlersFor<'system.' | 'engine.'> {
  return {
    async 'system.info'(_request, context) {
      const [backend, gpu] = await Promise.all([services.engine.call('backend.info', {}), gpuInfo()]);
      const { tfjsVersion, ...backendInfo } = backend;
      return {
        appVersion: appVersion(),
        platform: platform(),
        arch: arch(),
        cpu: cpuInfo(),
        memory: memoryInfo(),
        gpu,
        backend: backendInfo,
        engine: services.engine.status(),
        versions: { ...libraryVersions(), '@tensorflow/tfjs (engine)': tfjsVersion },
        dataDir: services.dataDir,
        transport: context.transport,
      };
    },
    async 'system.logs'(request) {
      return services.logger.recent(request.limit);
    },
    async 'engine.restart'() {
      return services.engine.restart();
    },
  };
}
