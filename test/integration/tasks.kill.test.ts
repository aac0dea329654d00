/**
 * For each task kind the workbench runs itself, SIGKILL its worker process
 * in the middle of the task: the state it lands in, the message a user sees,
 * and, where the kind allows it, a resume that finishes the work with
 * nothing done twice. (Batch jobs and tuning trials have their own, in
 * batch.cli.test.ts and tuning.kill.test.ts.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/main/api/handlers';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import type { TaskProgressEvent, TaskRecord } from '../../src/shared/taskTypes';

let workbench: Workbench;
let root: string;

async function call<M extends MethodName>(method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
  const envelope = await dispatch(workbench.handlers, method, request, { transport: 'cli' });
  if (!envelope.ok) throw new Error(`${method}: ${envelope.error.message}`);
  return envelope.value as ResponseOf<M>;
}

/** Resolves once the task reported progress past `done` (so the kill lands in the middle). */
function progressed(taskId: number, done = 1): Promise<void> {
  return new Promise((resolve) => {
    const detach = workbench.services.bus.attach((event, payload) => {
      const update = payload as TaskProgressEvent;
      if (event === 'task.progress' && update.taskId === taskId && update.progress.done >= done) {
        detach();
        resolve();
      }
    });
  });
}

function kill(pid: number | null): void {
  if (pid === null) throw new Error('The process is not running.');
  process.kill(pid, 'SIGKILL');
}

const waitTask = (taskId: number): Promise<TaskRecord> => workbench.services.tasks.wait(taskId, { pollMs: 50 });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'captioner-kill-'));
  workbench = createWorkbench({ dataDir: join(root, 'data'), echoLogs: false });
});
afterAll(async () => workbench?.close());

describe('killing the worker process in the middle of a task', () => {
  let shapes: string;
  let datasetId: number;
  let runId: number;

  it('synthesis: crashed, naming the dead process and the method; nothing registered; nothing resumes it', async () => {
    const { taskId } = await call('datasets.synth', { out: join(root, 'killed-shapes'), images: 3000, imageSize: 32, register: true });
    await progressed(taskId, 20);
    kill(workbench.services.datasetProcess.status().pid);
    const ended = await waitTask(taskId);
    expect(ended.state).toBe('crashed');
    expect(ended.error).toMatch(/dataset process stopped \(killed by SIGKILL\) while running data\.synth/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await workbench.services.store.tasks.get(taskId))!.state).toBe('crashed');
    expect(await call('datasets.list', {})).toEqual([]);
  });

  it('import: crashed in verification, queued again by itself, and finishes with every image decoded once', async () => {
    const made = await call('datasets.synth', { out: join(root, 'shapes'), images: 400, imageSize: 32 });
    expect((await waitTask(made.taskId)).state).toBe('completed');
    shapes = join(root, 'shapes');
    const imported = await call('datasets.import', { path: shapes });
    datasetId = imported.id;
    const verifyTaskId = imported.verifyTaskId!;
    await progressed(verifyTaskId, 5);
    kill(workbench.services.datasetProcess.status().pid);
    // The import's crash rule queues it again; a new dataset process finishes it.
    const ended = await waitTask(verifyTaskId);
    expect(ended).toMatchObject({ state: 'completed', attempts: 2, result: { datasetId, checked: 400, unreadable: 0 } });
    const [dataset] = await call('datasets.list', {});
    expect(dataset!.verified).toMatchObject({ checked: 400, unreadable: 0 });
  });

  // It trains twice (up to the kill, then the resume) in a fresh engine each time: more than the default minute on a slow 2-core machine beside another test file.
  it('training: crashed with the reason; resume continues from the checkpoint and trains each epoch once', { timeout: 240_000 }, async () => {
    const started = await call('training.start', {
      config: {
        dataset: { path: shapes },
        encoder: { imageSize: 16, scratchChannels: 4 },
        decoder: { embeddingDim: 128, units: 128 },
        training: { epochs: 4, batchSize: 16, earlyStoppingPatience: 0 },
        validation: { subsetSize: 4, sampleImages: 2 },
      },
    });
    runId = started.runId;
    // Killed after the first epoch's checkpoint, in the middle of the second epoch.
    await new Promise<void>((resolve) => {
      const detach = workbench.services.bus.attach((event, payload) => {
        if (event === 'training.step' && (payload as { runId: number; epoch: number }).runId === runId && (payload as { epoch: number }).epoch === 2) {
          detach();
          resolve();
        }
      });
    });
    kill(workbench.services.engine.status().pid);
    const crashed = await workbench.services.training.finished(runId);
    expect(crashed.status).toBe('crashed');
    expect(crashed.error).toMatch(/engine process stopped \(killed by SIGKILL\) while running training\.run/);
    expect(crashed.checkpoint).not.toBeNull();
    expect((await workbench.services.store.runs.resumePoint(runId))?.epoch).toBe(1);
    expect((await call('runs.get', { runId })).status).toBe('crashed');

    await call('training.resume', { runId });
    const finished = await workbench.services.training.finished(runId);
    expect(finished).toMatchObject({ status: 'completed', epochsCompleted: 4 });
    const perEpoch = await workbench.services.store.metrics.series(runId, 'epoch/trainLoss');
    expect(perEpoch.points.map((point) => point.epoch)).toEqual([1, 2, 3, 4]);
  });

  it('evaluation: crashed with the reason, nothing stored, and the next evaluation runs on a new engine', async () => {
    const { taskId } = await call('eval.start', { runId, split: 'train', batchSize: 1, decoding: { strategy: 'beam', beamWidth: 5 } });
    await progressed(taskId, 1);
    kill(workbench.services.engine.status().pid);
    const ended = await waitTask(taskId);
    expect(ended.state).toBe('crashed');
    expect(ended.error).toMatch(/engine process stopped \(killed by SIGKILL\) while running eval\.evaluate/);
    expect(await call('eval.list', { runId })).toEqual([]);
    const again = await call('eval.start', { runId, split: 'test', limit: 8 });
    expect((await waitTask(again.taskId)).state).toBe('completed');
    expect(await call('eval.list', { runId })).toHaveLength(1);
  });
});
