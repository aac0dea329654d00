#!/usr/bin/env python3
"""Regenerates src/main/ml/graph/opInputTypes.json: for every TensorFlow op
whose inputs carry type attributes, which attribute types each input
("T", "Tidx", ...) and which counts a list input ("N"). Eager execution
infers those attributes from the inputs, so tfjs-node often leaves them out;
a graph's NodeDef must spell them out (ml/graph/inferAttrs.ts).

    python3 -m venv .venv-keras && .venv-keras/bin/pip install tensorflow-cpu==2.21.0
    .venv-keras/bin/python scripts/make-op-input-types.py

Use the TensorFlow version the native backend is built from (scripts/tensorflow/).
"""
import json
import os

import tensorflow as tf
from tensorflow.core.framework import op_def_pb2
from tensorflow.python.client import pywrap_tf_session as c_api
from tensorflow.python.util import compat

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'main', 'ml', 'graph', 'opInputTypes.json')

ops = op_def_pb2.OpList()
ops.ParseFromString(compat.as_bytes(c_api.TF_GetBuffer(c_api.TF_GetAllOpList())))

table = {}
for op in ops.op:
    if op.name.startswith('_'):
        continue
    inputs = []
    for arg in op.input_arg:
        entry = {}
        if arg.type_list_attr:
            entry['list'] = arg.type_list_attr
        elif arg.type_attr:
            entry['type'] = arg.type_attr
        if arg.number_attr:
            entry['n'] = arg.number_attr
        inputs.append(entry)
    if any(inputs):
        table[op.name] = inputs

with open(OUT, 'w') as out:
    json.dump({'tensorflow': tf.__version__, 'ops': table}, out, separators=(',', ':'), sort_keys=True)
    out.write('\n')
print(f'{len(table)} ops -> {OUT}')
