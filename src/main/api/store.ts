/**
 * `store.*` handlers: which store this workbench uses (password masked),
 * the desktop app's saved store setting, and the processes working on the
 * store. Thin: the choice is made at start (openStore.ts), the setting lives
 * in core/appSettings.ts, and who works is read from the tasks.
 */
import type { StoreInfo } from '../../shared/contract/store';
import { ApiError } from '../../shared/errors';
import type { TaskRecord } from '../../shared/taskTypes';
import { saveStoreSetting } from '../core/appSettings';
import { describeStore, maskStoreValue, parseStoreSpec, type StoreSpec } from '../store/openStore';
import { workersSeen } from '../tasks/workersSeen';
import type { HandlersFor } from './handlers';
import type { Services } from './services';

function sameStore(a: StoreSpec, b: StoreSpec): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'sqlite' || b.kind === 'sqlite') return true;
  return a.url === b.url && (a.schema ?? null) === (b.schema ?? null);
}

export function storeInfo(services: Services): StoreInfo {
  const { spec, source } = services.storeChoice;
  const settings = services.appSettings;
  let saved: StoreInfo['settings'] = null;
  if (settings) {
    const { overriddenByEnv } = settings;
    let savedSpec: StoreSpec = { kind: 'sqlite' };
    try {
      if (settings.saved) savedSpec = parseStoreSpec(settings.saved);
    } catch {
      // Checked when it was read or saved; a value that no longer parses is shown as it is.
    }
    saved = {
      file: settings.file,
      saved: settings.saved === null ? null : maskStoreValue(settings.saved),
      restartNeeded: !overriddenByEnv && !sameStore(savedSpec, spec),
      overriddenByEnv,
      error: settings.error,
    };
  }
  return { kind: spec.kind, description: describeStore(spec), shared: spec.kind === 'postgres', source, self: services.tasks.owner, settings: saved };
}

export function storeHandlers(services: Services): HandlersFor<'store.'> {
  return {
    async 'store.info'() {
      return storeInfo(services);
    },
    async 'store.configure'(request) {
      const settings = services.appSettings;
      if (!settings) {
        throw new ApiError(
          'forbidden',
          'Only the desktop app keeps a store setting; serve mode and the command line take --store URL or CAPTIONER_STORE.',
        );
      }
      const written = saveStoreSetting(settings.file, request.store);
      settings.saved = written.store ?? null;
      settings.error = null;
      const where = written.store ? maskStoreValue(written.store) : 'the embedded SQLite store';
      services.logger.info(`Store setting saved in ${settings.file}: ${where}; it applies when the app starts again.`);
      return storeInfo(services);
    },
    async 'store.workers'(request) {
      const windowMs = request.withinMinutes * 60_000;
      // Live tasks however old, and the recent past of every kind.
      const [live, recent] = await Promise.all([
        services.store.tasks.list({ states: ['running', 'stopping'], limit: 1000 }),
        services.store.tasks.list({ limit: 1000 }),
      ]);
      const tasks: TaskRecord[] = [...live, ...recent];
      return workersSeen(tasks, { now: Date.now(), windowMs, self: services.tasks.owner });
    },
  };
}
