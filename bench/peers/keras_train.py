"""The reference training step of `npm run bench -- train`, in Keras.

Same model, data shapes and optimizer as bench/train.ts: merge decoder, one
LSTM layer, embedding 256, 256 units, vocabulary 5,000, batch 64, captions of
20 words, 1,280-dim image features, dropout 0.3 (image, embeddings, LSTM
outputs), Adam (lr 1e-3) with global-norm clipping at 5, softmax
cross-entropy from logits. Keras' defaults otherwise (on a CPU-only machine
`jit_compile="auto"` means no XLA; the step runs as a tf.function graph).

Run on its own:   python bench/peers/keras_train.py --steps 20
Driven by the bench (interleaved with ours): python bench/peers/keras_train.py --serve
  then one line per request on stdin, `run N`, answered with one JSON line
  (seconds for N steps); `quit` ends it.

Needs TensorFlow for Python of the native library's version, e.g.
  python3 -m venv .venv-keras && .venv-keras/bin/pip install tensorflow-cpu==2.21.0
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

REFERENCE = {"batch": 64, "steps": 20, "embeddingDim": 256, "units": 256, "vocab": 5000, "featureDim": 1280}


def build_model(cell: str) -> keras.Model:
    r = REFERENCE
    image = keras.Input((r["featureDim"],), name="image")
    words = keras.Input((r["steps"],), dtype="int32", name="words")
    projected = layers.Dense(r["units"], activation="relu")(layers.Dropout(0.3)(image))
    embedded = layers.Dropout(0.3)(layers.Embedding(r["vocab"], r["embeddingDim"])(words))
    rnn = layers.LSTM if cell == "lstm" else layers.GRU
    sequence = layers.Dropout(0.3)(rnn(r["units"], return_sequences=True)(embedded))
    merged = layers.Add()([sequence, layers.RepeatVector(r["steps"])(projected)])
    hidden = layers.Dense(r["units"], activation="relu")(merged)
    logits = layers.Dense(r["vocab"])(hidden)
    model = keras.Model([image, words], logits)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3, global_clipnorm=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def batch():
    r = REFERENCE
    rng = np.random.default_rng(1)
    features = rng.standard_normal((r["batch"], r["featureDim"]), dtype=np.float32)
    tokens = rng.integers(4, r["vocab"], size=(r["batch"], r["steps"]), dtype=np.int32)
    targets = np.roll(tokens.reshape(-1), -1).reshape(tokens.shape)
    return [features, tokens], targets


def timed(model, inputs, targets, steps: int) -> float:
    started = time.perf_counter()
    loss = None
    for _ in range(steps):
        loss = model.train_on_batch(inputs, targets)
    float(np.asarray(loss).reshape(-1)[0])  # the last step has finished
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    model = build_model(args.cell)
    inputs, targets = batch()
    timed(model, inputs, targets, 2)  # trace and warm up
    info = {"tensorflow": tf.__version__, "keras": keras.__version__, "jitCompile": bool(model.jit_compile),
            "intraOpThreads": tf.config.threading.get_intra_op_parallelism_threads()}
    tokens = REFERENCE["batch"] * REFERENCE["steps"]
    if not args.serve:
        seconds = timed(model, inputs, targets, args.steps) / args.steps
        print(json.dumps({"peer": "keras", "cell": args.cell, **info, "secondsPerStep": round(seconds, 4),
                          "tokensPerSecond": round(tokens / seconds)}), flush=True)
        return
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        if command[0] == "run":
            steps = int(command[1])
            print(json.dumps({"steps": steps, "seconds": timed(model, inputs, targets, steps)}), flush=True)


if __name__ == "__main__":
    main()
