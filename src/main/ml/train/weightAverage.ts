/**
 * An exponential moving average of the weights (Polyak averaging;
 * `training.weightAverage`): after every optimizer step
 *
 *   average ← decay · average + (1 − decay) · weight
 *
 * starting from the initial weights, so the last 1 / (1 − decay) steps count
 * most. A run whose learning rate is still well above zero when it ends (a
 * time budget cuts the schedule) keeps stepping around a minimum; the
 * average sits nearer its middle than any one step's weights.
 *
 * The optimizer keeps working on the weights themselves. Validation (and
 * so the choice of the best checkpoint) and every checkpoint's
 * `weights.bin` use the average; the trained weights go beside it, to
 * `trained.bin`, for an exact resume.
 */
import * as tf from '@tensorflow/tfjs';
import { assignWeights, type SerializedTensor } from '../model/params';

interface Averaged {
  name: string;
  weight: tf.Variable;
  average: tf.Variable;
}

export class WeightAverage {
  private readonly entries: Averaged[];
  private swapped = false;

  constructor(
    named: ReadonlyArray<readonly [string, tf.Variable]>,
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`training.weightAverage must be above 0 and below 1 (got ${decay}).`);
    // A copy, not the weight's own buffer: the two must never be one tensor.
    this.entries = named.map(([name, weight]) => ({ name, weight, average: tf.tidy(() => tf.variable(tf.mul(weight, 1), false)) }));
  }

  /** After an optimizer step: moves every average towards its weight. */
  update(): void {
    if (this.swapped) throw new Error('The weight average cannot be updated while the model holds it.');
    const keep = this.decay;
    tf.tidy(() => {
      for (const { weight, average } of this.entries) average.assign(tf.add(tf.mul(average, keep), tf.mul(weight, 1 - keep)));
    });
  }

  /** Runs `use` with the averaged weights in the model; the trained ones are back when it returns or throws. */
  async withAverage<T>(use: () => Promise<T>): Promise<T> {
    this.swap();
    try {
      return await use();
    } finally {
      this.swap();
    }
  }

  /** The averages, named as the weights. */
  serialize(): Promise<SerializedTensor[]> {
    return Promise.all(this.entries.map(async ({ name, average }) => ({ name, shape: [...average.shape], data: (await average.data()) as Float32Array })));
  }

  /** Restores averages saved by `serialize`; `source` names where they came from in errors. */
  load(saved: readonly SerializedTensor[], source: string): void {
    assignWeights(
      this.entries.map(({ name, average }) => [name, average] as [string, tf.Variable]),
      saved,
      source,
    );
  }

  dispose(): void {
    for (const { average } of this.entries) average.dispose();
  }

  /** Exchanges the values of each weight and its average (twice is the identity, bit for bit). */
  private swap(): void {
    tf.tidy(() => {
      for (const { weight, average } of this.entries) {
        const trained = tf.clone(weight);
        weight.assign(average);
        average.assign(trained);
      }
    });
    this.swapped = !this.swapped;
  }
}
