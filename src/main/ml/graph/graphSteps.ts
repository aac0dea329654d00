/**
 * Training steps run as TensorFlow graphs, one graph per step signature
 * (what fixes the step's ops: batch shape, trained variables, options that
 * change the ops rather than their inputs).
 *
 * The first step of a signature runs eagerly (it may create state lazily,
 * as the optimizer's slots are); the second runs eagerly too and is traced
 * into a graph (trace.ts, stepGraph.ts); from the third on the step's
 * JavaScript runs against that graph and TensorFlow executes the ops as one
 * session run. Every value (weights, batch, learning rate, dropout seeds) is
 * fed on each run, so a graph fixes only the structure, which each replay
 * checks op by op.
 *
 * A step stays eager when its signature's trace is refused (it reads a
 * value back mid-step, as scheduled sampling does) or its graph cannot be
 * built, with the reason logged once. A replay that breaks its trace before
 * any weight changed falls back to eager for that signature and reruns the
 * step; after a weight changed it cannot be undone, and the step fails with
 * the reason (the run resumes from its last checkpoint).
 *
 * On by default on the native backend; `CAPTIONER_GRAPH_STEPS=0` or
 * `setGraphSteps(false)` turns it off.
 */
import * as tf from '@tensorflow/tfjs';
import { resourceHandleAttrs } from '../model/fused/nativeOps';
import { kernelBackend } from './nativeBinding';
import { GraphMismatch, StepGraph } from './stepGraph';
import { recordTrace } from './trace';

let override: boolean | null = null;

/** Forces graph steps on or off (tests compare both); null restores the default. */
export function setGraphSteps(enabled: boolean | null): void {
  override = enabled;
}

/** Whether steps may run as graphs: the native backend, not turned off. */
export function graphStepsEnabled(): boolean {
  if (tf.getBackend() !== 'tensorflow') return false;
  if (override !== null) return override;
  return process.env.CAPTIONER_GRAPH_STEPS !== '0';
}

type Entry = { state: 'seen' } | { state: 'graph'; graph: StepGraph } | { state: 'eager' };

export interface GraphStepStats {
  /** Steps run as a graph. */
  replays: number;
  /** Steps run eagerly (first sight of a signature, traces, signatures left eager, graphs off). */
  eager: number;
  graphs: number;
  /** Ops in the graphs built, summed. */
  graphOps: number;
}

/** Beyond this many signatures new ones stay eager: each graph holds a session. */
const MAX_GRAPHS = 8;

export class GraphSteps {
  private readonly entries = new Map<string, Entry>();
  private readonly counts = { replays: 0, eager: 0, graphOps: 0 };
  private readonly said = new Set<string>();

  constructor(private readonly logTo: (level: 'info' | 'warn', message: string) => void = () => undefined) {}

  /** Each message once per run: every step shape would otherwise repeat it. */
  private log(level: 'info' | 'warn', message: string): void {
    if (this.said.has(message)) return;
    this.said.add(message);
    this.logTo(level, message);
  }

  /** Whether steps may run as graphs here (the native backend, not turned off): the step's code then avoids batch-dependent shortcuts. */
  get active(): boolean {
    return graphStepsEnabled();
  }

  /** Runs one step: `body` must do the whole step and return what the caller reads afterwards. */
  run<T>(signature: string, body: () => T): T {
    if (!graphStepsEnabled()) return this.eagerly(body);
    const entry = this.entries.get(signature);
    if (!entry) {
      this.entries.set(signature, { state: 'seen' });
      return this.eagerly(body);
    }
    if (entry.state === 'eager') return this.eagerly(body);
    if (entry.state === 'seen') return this.trace(signature, body);
    try {
      const result = entry.graph.replay(body, variablesChanged(snapshotVariables()));
      this.counts.replays += 1;
      return result;
    } catch (error) {
      if (!(error instanceof GraphMismatch)) throw error;
      entry.graph.dispose();
      this.entries.set(signature, { state: 'eager' });
      if (error.variablesTouched) throw new Error(`${error.message} Weights had already changed, so the step cannot be rerun; resume the run (or set CAPTIONER_GRAPH_STEPS=0).`);
      this.log('warn', `${error.message} Steps of this shape run eagerly from now on.`);
      return this.eagerly(body);
    }
  }

  get stats(): GraphStepStats {
    return { ...this.counts, graphs: this.graphCount() };
  }

  private graphCount(): number {
    return [...this.entries.values()].filter((entry) => entry.state === 'graph').length;
  }

  dispose(): void {
    for (const entry of this.entries.values()) if (entry.state === 'graph') entry.graph.dispose();
    this.entries.clear();
  }

  private eagerly<T>(body: () => T): T {
    this.counts.eager += 1;
    return body();
  }

  private trace<T>(signature: string, body: () => T): T {
    const backend = kernelBackend();
    const outcome = recordTrace(backend, body, resourceHandleAttrs);
    this.counts.eager += 1;
    if (outcome.trace === null) {
      this.entries.set(signature, { state: 'eager' });
      this.log('info', `Training steps run eagerly: ${outcome.refusal}.`);
      return outcome.result;
    }
    if (this.graphCount() >= MAX_GRAPHS) {
      this.entries.set(signature, { state: 'eager' });
      return outcome.result;
    }
    try {
      const graph = StepGraph.build(backend, outcome.trace);
      this.entries.set(signature, { state: 'graph', graph });
      this.counts.graphOps += graph.opCount;
    } catch (error) {
      this.entries.set(signature, { state: 'eager' });
      this.log('warn', `Training steps run eagerly: their graph could not be built (${(error as Error).message}).`);
    }
    return outcome.result;
  }
}

/** Every tfjs variable's data id, by name: a step that assigns a variable gives it a new one. */
function snapshotVariables(): Map<string, object> {
  const registered = tf.engine().registeredVariables;
  return new Map(Object.entries(registered).map(([name, variable]) => [name, variable.dataId]));
}

const variablesChanged = (before: Map<string, object>) => (): boolean => {
  const now = snapshotVariables();
  if (now.size !== before.size) return true;
  for (const [name, dataId] of now) if (before.get(name) !== dataId) return true;
  return false;
};
