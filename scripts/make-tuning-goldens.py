#!/usr/bin/env python3
"""Regenerates test/fixtures/tuning/*.json: numbers computed by Optuna itself,
which src/main/lib/tuning must reproduce (test/unit/tuning.parity.test.ts).

    python3 -m venv .venv-optuna && .venv-optuna/bin/pip install optuna==5.0.0 scipy==1.17.1
    .venv-optuna/bin/python scripts/make-tuning-goldens.py

(.venv-optuna/ is listed in .git/info/exclude.) This script installs nothing.

Random streams differ between NumPy and JavaScript, so nothing here compares
random draws. Instead it exports:
  tpe.json         trial histories, the good/bad split, the log densities of
                   the good and bad Parzen estimators at a fixed set of
                   candidate points, and which candidate maximises l(x)/g(x);
                   plus the truncated-normal helpers at fixed arguments.
  pruners.json     whole studies run step by step with Optuna's pruners
                   (median, percentile, successive halving, Hyperband), the
                   decision at every report.
  importance.json  PED-ANOVA importances of fixed studies.
  sobol.json       SciPy's unscrambled Sobol points (the sequence QMCSampler uses).
Everything is deterministic for the seeds below.

    .venv-optuna/bin/python scripts/make-tuning-goldens.py --bench [trials] [seeds]

writes no fixture: it runs Optuna's own TPESampler and RandomSampler on the
test functions of bench/samplers.ts and prints the same JSON lines, so
`npm run bench -- samplers` can be read against Optuna.
"""
import json
import math
import os
import random
from importlib.metadata import version

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.importance import PedAnovaImportanceEvaluator
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe.sampler import TPESampler, _split_trials, default_gamma
from optuna.trial import TrialState, create_trial
from scipy.stats import qmc

optuna.logging.set_verbosity(optuna.logging.ERROR)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'tuning')
STATES = {'complete': TrialState.COMPLETE, 'pruned': TrialState.PRUNED, 'running': TrialState.RUNNING}


def to_optuna(dist):
    if dist['type'] == 'float':
        return FloatDistribution(dist['low'], dist['high'], log=dist.get('log', False), step=dist.get('step'))
    if dist['type'] == 'int':
        return IntDistribution(dist['low'], dist['high'], log=dist.get('log', False), step=dist.get('step', 1))
    return CategoricalDistribution(dist['choices'])


def random_value(rng, dist):
    """A value of the distribution, from Python's own generator (fixture data, not a sampler)."""
    if dist['type'] == 'categorical':
        return rng.choice(dist['choices'])
    if dist['type'] == 'int':
        step = dist.get('step', 1)
        if dist.get('log'):
            return int(round(math.exp(rng.uniform(math.log(dist['low']), math.log(dist['high'])))))
        return dist['low'] + step * rng.randint(0, (dist['high'] - dist['low']) // step)
    if dist.get('step'):
        n = round((dist['high'] - dist['low']) / dist['step'])
        return dist['low'] + dist['step'] * rng.randint(0, n)
    if dist.get('log'):
        return math.exp(rng.uniform(math.log(dist['low']), math.log(dist['high'])))
    return rng.uniform(dist['low'], dist['high'])


def objective(params, space):
    """Any deterministic function of the params: the fixtures only need values."""
    total = 0.0
    for i, (name, dist) in enumerate(space.items()):
        v = params[name]
        if dist['type'] == 'categorical':
            total += 0.7 * dist['choices'].index(v)
        elif dist.get('log'):
            total += (math.log(v) - math.log(dist['low']) - 0.3 * (math.log(dist['high']) - math.log(dist['low']))) ** 2
        else:
            span = dist['high'] - dist['low'] or 1
            total += ((v - dist['low']) / span - 0.6 + 0.05 * i) ** 2
    return total


def make_history(space, n_trials, seed, pruned_every=0, running=0, direction='minimize'):
    rng = random.Random(seed)
    trials = []
    for number in range(n_trials + running):
        params = {name: random_value(rng, dist) for name, dist in space.items()}
        value = objective(params, space) + 0.05 * rng.random()
        if number >= n_trials:
            trials.append({'number': number, 'state': 'running', 'params': params, 'intermediate': {}})
        elif pruned_every and number % pruned_every == pruned_every - 1:
            steps = rng.randint(1, 4)
            inter = {str(s): value * (1.5 - 0.1 * s) for s in range(steps)}
            if number % (2 * pruned_every) == 2 * pruned_every - 1:
                inter[str(steps)] = float('nan') if rng.random() < 0.5 else value
            trials.append({'number': number, 'state': 'pruned', 'params': params, 'intermediate': inter})
        else:
            inter = {str(s): value * (2.0 - 0.2 * s) for s in range(3)}
            trials.append({'number': number, 'state': 'complete', 'params': params, 'value': value if direction == 'minimize' else -value, 'intermediate': inter})
    return trials


def build_study(space, trials, direction, name='parity'):
    study = optuna.create_study(direction=direction, study_name=name)
    dists = {k: to_optuna(v) for k, v in space.items()}
    for t in trials:
        kwargs = dict(params=t['params'], distributions=dists, state=STATES[t['state']],
                      intermediate_values={int(k): v for k, v in t['intermediate'].items()})
        if t['state'] == 'complete':
            kwargs['value'] = t['value']
        study.add_trial(create_trial(**kwargs))
    return study


def json_number(x):
    if isinstance(x, float) and math.isnan(x):
        return 'NaN'
    if isinstance(x, float) and math.isinf(x):
        return 'Infinity' if x > 0 else '-Infinity'
    return x


class StableArgsort:
    """Runs Optuna's Parzen estimator with a stable argsort.

    The kernel bandwidths come from the gaps between sorted observations. When
    two observations are equal (common for int, stepped and log-int
    parameters), which of the two tied kernels gets which bandwidth depends on
    the order numpy.argsort returns them in; NumPy's default sort is not
    stable and, with SIMD sorting, its tie order depends on the CPU. Our
    implementation breaks ties by trial order, which is what a stable argsort
    gives, so histories with ties are compared with Optuna's estimator under a
    stable argsort (nothing else is changed). Histories without ties
    (`ties: False`) use Optuna untouched.
    """

    def __enter__(self):
        import optuna.samplers._tpe.parzen_estimator as pe
        self.module = pe
        self.original = pe.np
        shim = type('numpy_with_stable_argsort', (), {})()
        for key in dir(np):
            if not key.startswith('__'):
                setattr(shim, key, getattr(np, key))
        shim.argsort = lambda a, **kw: np.argsort(a, kind='stable')
        pe.np = shim

    def __exit__(self, *exc):
        self.module.np = self.original


def has_ties(space, trials):
    for name, dist in space.items():
        if dist['type'] == 'categorical':
            continue
        values = [t['params'][name] for t in trials]
        if len(set(values)) != len(values):
            return True
    return False


def tpe_case(name, space, trials, direction, constant_liar, seed, extra_points):
    ties = has_ties(space, trials)
    if ties:
        with StableArgsort():
            return tpe_case_inner(name, space, trials, direction, constant_liar, seed, extra_points, ties)
    return tpe_case_inner(name, space, trials, direction, constant_liar, seed, extra_points, ties)


def tpe_case_inner(name, space, trials, direction, constant_liar, seed, extra_points, ties):
    study = build_study(space, trials, direction)
    sampler = TPESampler(seed=seed, constant_liar=constant_liar, multivariate=True)
    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING) if constant_liar else (TrialState.COMPLETE, TrialState.PRUNED)
    frozen = study._get_trials(deepcopy=False, states=states)
    n = sum(t.state != TrialState.RUNNING for t in frozen)
    below, above = _split_trials(study, frozen, default_gamma(n))
    dists = {k: to_optuna(v) for k, v in space.items()}
    mpe_below = sampler._build_parzen_estimator(study, dists, below, handle_below=True)
    mpe_above = sampler._build_parzen_estimator(study, dists, above, handle_below=False)
    # A fixed candidate set: 24 draws from l(x) with NumPy's generator, plus hand-picked points.
    candidates = mpe_below.sample(np.random.RandomState(seed), 24)
    for point in extra_points:
        for k in candidates:
            candidates[k] = np.append(candidates[k], dists[k].to_internal_repr(point[k]))
    log_below = mpe_below.log_pdf(candidates)
    log_above = mpe_above.log_pdf(candidates)
    acq = sampler._compute_acquisition_func(candidates, mpe_below, mpe_above)
    best = int(np.argmax(acq))
    return {
        'name': name, 'direction': direction, 'constantLiar': constant_liar, 'ties': ties, 'space': space,
        'trials': [{**t, 'intermediate': {k: json_number(v) for k, v in t['intermediate'].items()}} for t in trials],
        'below': [t.number for t in below], 'above': [t.number for t in above],
        'candidates': {k: [float(x) for x in v] for k, v in candidates.items()},
        'logBelow': [float(x) for x in log_below], 'logAbove': [float(x) for x in log_above],
        'best': best,
    }


def tpe_goldens():
    mixed = {
        'optimizer.learningRate': {'type': 'float', 'low': 1e-5, 'high': 1e-1, 'log': True},
        'decoder.dropout': {'type': 'float', 'low': 0.1, 'high': 0.6},
        'decoder.units': {'type': 'int', 'low': 128, 'high': 512, 'step': 32},
        'training.batchSize': {'type': 'int', 'low': 16, 'high': 128, 'log': True},
        'decoder.cell': {'type': 'categorical', 'choices': ['lstm', 'gru']},
        'decoder.variant': {'type': 'categorical', 'choices': ['init-inject', 'merge', 'attention']},
        'training.labelSmoothing': {'type': 'float', 'low': 0.0, 'high': 0.2, 'step': 0.05},
    }
    floats = {
        'x': {'type': 'float', 'low': -5.0, 'high': 5.0},
        'y': {'type': 'float', 'low': 1e-3, 'high': 10.0, 'log': True},
    }
    edge_points = [
        {'optimizer.learningRate': 1e-5, 'decoder.dropout': 0.6, 'decoder.units': 128, 'training.batchSize': 128,
         'decoder.cell': 'gru', 'decoder.variant': 'attention', 'training.labelSmoothing': 0.2},
        {'optimizer.learningRate': 1e-1, 'decoder.dropout': 0.1, 'decoder.units': 512, 'training.batchSize': 16,
         'decoder.cell': 'lstm', 'decoder.variant': 'init-inject', 'training.labelSmoothing': 0.0},
    ]
    wide = {
        'lr': {'type': 'float', 'low': 1e-6, 'high': 1e-1, 'log': True},
        'units': {'type': 'int', 'low': 1, 'high': 1000000, 'step': 1},
        'width': {'type': 'int', 'low': 1000, 'high': 1000000000, 'log': True},
        'smoothing': {'type': 'float', 'low': 0.0, 'high': 1.0, 'step': 1e-7},
        'cell': {'type': 'categorical', 'choices': ['lstm', 'gru', 'rnn']},
    }
    wide_edges = [{'lr': 1e-6, 'units': 1, 'width': 1000, 'smoothing': 1.0, 'cell': 'rnn'}]
    float_edges = [{'x': -5.0, 'y': 1e-3}, {'x': 5.0, 'y': 10.0}, {'x': 0.0, 'y': 1.0}]
    cases = [
        tpe_case('floats, 12 complete', floats, make_history(floats, 12, 1), 'minimize', True, 1, float_edges),
        tpe_case('floats, 40 complete (weights ramp)', floats, make_history(floats, 40, 2), 'minimize', True, 2, float_edges),
        tpe_case('floats, maximize, 30 complete', floats, make_history(floats, 30, 3, direction='maximize'), 'maximize', True, 3, float_edges),
        tpe_case('mixed without ties, 30 complete', wide, make_history(wide, 30, 8), 'minimize', True, 8, wide_edges),
        tpe_case('mixed without ties, maximize, 45 with pruned and running', wide, make_history(wide, 45, 9, pruned_every=4, running=2, direction='maximize'), 'maximize', True, 9, wide_edges),
        tpe_case('mixed, 15 complete', mixed, make_history(mixed, 15, 4), 'minimize', True, 4, edge_points),
        tpe_case('mixed, 60 with pruned', mixed, make_history(mixed, 60, 5, pruned_every=3), 'minimize', True, 5, edge_points),
        tpe_case('mixed, running trials as constant liar', mixed, make_history(mixed, 20, 6, pruned_every=4, running=3), 'minimize', True, 6, edge_points),
        tpe_case('mixed, running trials ignored', mixed, make_history(mixed, 20, 6, pruned_every=4, running=3), 'minimize', False, 6, edge_points),
        tpe_case('mixed, maximize with pruned', mixed, make_history(mixed, 35, 7, pruned_every=5, direction='maximize'), 'maximize', True, 7, edge_points),
    ]
    # Truncated-normal helpers at fixed arguments.
    xs = [-40.0, -25.0, -20.5, -19.9, -8.0, -6.1, -3.0, -1.0, -0.3, 0.0, 0.4, 1.2, 3.0, 5.9, 6.1, 9.0]
    pairs = [(-40.0, -38.0), (-22.0, -21.0), (-5.0, -4.0), (-3.0, 0.0), (-1.0, 1.0), (-0.1, 0.2), (0.5, 2.5), (4.0, 9.0), (21.0, 22.0), (-30.0, 30.0)]
    qs = [1e-12, 1e-6, 0.01, 0.2, 0.5, 0.77, 0.99, 1 - 1e-9]
    truncnorm = {
        'logNdtr': [[x, float(_truncnorm._log_ndtr(np.array([x]))[0])] for x in xs],
        'logGaussMass': [[a, b, float(_truncnorm._log_gauss_mass(np.array([a]), np.array([b]))[0])] for a, b in pairs],
        'ppf': [[q, a, b, float(_truncnorm.ppf(np.array([q]), np.array([a]), np.array([b]))[0])] for a, b in pairs[2:8] for q in qs],
        'logPdf': [[x, a, b, loc, scale, float(_truncnorm.logpdf(np.array([x]), a=np.array([a]), b=np.array([b]), loc=np.array([loc]), scale=np.array([scale]))[0])]
                   for (x, a, b, loc, scale) in [(0.3, -2.0, 3.0, 0.1, 0.7), (-1.9, -0.5, 4.0, 1.0, 2.5), (9.5, -3.0, 0.1, 9.7, 3.0), (2.0, -1.0, 1.0, 0.0, 2.0)]],
    }
    return {'cases': cases, 'truncnorm': truncnorm}


def run_pruner_study(pruner, direction, curves, parallel, name):
    """Runs a study step by step; `parallel` trials are in progress at once, reporting round robin."""
    study = optuna.create_study(direction=direction, study_name=name, pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0))
    decisions = []  # (trial number, step, pruned?)
    pending = list(range(len(curves)))
    active = []
    while pending or active:
        while pending and len(active) < parallel:
            index = pending.pop(0)
            active.append([study.ask(), index, 0])
        still = []
        for entry in active:
            trial, index, step = entry
            value = curves[index][step]
            trial.report(value, step)
            pruned = trial.should_prune()
            decisions.append([trial.number, step, pruned])
            if pruned:
                study.tell(trial, state=TrialState.PRUNED)
            elif step + 1 == len(curves[index]):
                study.tell(trial, value)
            else:
                entry[2] = step + 1
                still.append(entry)
        active = still
    return decisions


def make_curves(seed, n_trials, n_steps, nan_at=None):
    rng = random.Random(seed)
    curves = []
    for i in range(n_trials):
        start = rng.uniform(1.0, 3.0)
        rate = rng.uniform(0.02, 0.3)
        floor = rng.uniform(0.1, 0.8)
        length = n_steps if rng.random() < 0.8 else rng.randint(2, n_steps)
        curve = [floor + (start - floor) * math.exp(-rate * s) + 0.02 * rng.random() for s in range(length)]
        if nan_at is not None and i % 7 == 3:
            curve[min(nan_at, length - 1)] = float('nan')
        curves.append(curve)
    return curves


def pruner_goldens():
    P = optuna.pruners
    specs = [
        ('median', {}, lambda: P.MedianPruner()),
        ('median', {'nStartupTrials': 2, 'nWarmupSteps': 3, 'intervalSteps': 2, 'nMinTrials': 2},
         lambda: P.MedianPruner(n_startup_trials=2, n_warmup_steps=3, interval_steps=2, n_min_trials=2)),
        ('percentile', {'percentile': 25.0}, lambda: P.PercentilePruner(25.0)),
        ('percentile', {'percentile': 80.0, 'nStartupTrials': 3, 'nWarmupSteps': 1}, lambda: P.PercentilePruner(80.0, n_startup_trials=3, n_warmup_steps=1)),
        ('successiveHalving', {}, lambda: P.SuccessiveHalvingPruner()),
        ('successiveHalving', {'minResource': 1, 'reductionFactor': 2, 'minEarlyStoppingRate': 1},
         lambda: P.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2, min_early_stopping_rate=1)),
        ('successiveHalving', {'minResource': 2, 'reductionFactor': 3, 'bootstrapCount': 2},
         lambda: P.SuccessiveHalvingPruner(min_resource=2, reduction_factor=3, bootstrap_count=2)),
        ('hyperband', {}, lambda: P.HyperbandPruner()),
        ('hyperband', {'minResource': 1, 'maxResource': 27, 'reductionFactor': 3}, lambda: P.HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)),
        ('hyperband', {'minResource': 2, 'maxResource': 'auto', 'reductionFactor': 2}, lambda: P.HyperbandPruner(min_resource=2, reduction_factor=2)),
    ]
    cases = []
    for i, (kind, options, make) in enumerate(specs):
        for direction in ('minimize', 'maximize'):
            for parallel in (1, 4):
                curves = make_curves(100 + i, 30, 30 if kind == 'hyperband' else 12, nan_at=5)
                if direction == 'maximize':
                    curves = [[-v for v in c] for c in curves]
                name = f'pruning-{kind}-{i}'
                cases.append({
                    'pruner': kind, 'options': options, 'direction': direction, 'parallel': parallel, 'studyName': name,
                    'curves': [[json_number(v) for v in c] for c in curves],
                    'decisions': run_pruner_study(make(), direction, curves, parallel, name),
                })
    return {'cases': cases}


def importance_goldens():
    cases = []
    spaces = [
        {
            'x': {'type': 'float', 'low': -10.0, 'high': 10.0},
            'y': {'type': 'float', 'low': -10.0, 'high': 10.0},
            'lr': {'type': 'float', 'low': 1e-5, 'high': 1e-1, 'log': True},
            'units': {'type': 'int', 'low': 32, 'high': 512, 'step': 32},
            'layers': {'type': 'int', 'low': 1, 'high': 64, 'log': True},
            'cell': {'type': 'categorical', 'choices': ['lstm', 'gru', 'rnn']},
        },
    ]
    for seed, n, direction, kwargs in [(11, 60, 'minimize', {}), (12, 100, 'maximize', {}), (13, 40, 'minimize', {'target_quantile': 0.2}),
                                       (14, 80, 'minimize', {'target_quantile': 0.1, 'region_quantile': 0.5}), (15, 50, 'minimize', {'evaluate_on_local': False})]:
        space = spaces[0]
        rng = random.Random(seed)
        trials = []
        for number in range(n):
            params = {k: random_value(rng, d) for k, d in space.items()}
            value = params['x'] ** 2 + 0.1 * abs(params['y']) + (math.log10(params['lr']) + 3) ** 2 + (0.5 if params['cell'] == 'rnn' else 0.0) + 0.01 * rng.random()
            trials.append({'number': number, 'state': 'complete', 'params': params, 'value': value if direction == 'minimize' else -value, 'intermediate': {}})
        study = build_study(space, trials, direction)
        evaluator = PedAnovaImportanceEvaluator(**kwargs)
        raw = evaluator.evaluate(study)
        normalized = optuna.importance.get_param_importances(study, evaluator=PedAnovaImportanceEvaluator(**kwargs))
        options = {{'target_quantile': 'targetQuantile', 'region_quantile': 'regionQuantile', 'evaluate_on_local': 'evaluateOnLocal'}[k]: v for k, v in kwargs.items()}
        cases.append({'direction': direction, 'options': options, 'space': space, 'trials': trials,
                      'raw': {k: float(v) for k, v in raw.items()}, 'normalized': {k: float(v) for k, v in normalized.items()}})
    return {'cases': cases}


def sobol_goldens():
    out = []
    for d, n, skip in [(1, 64, 0), (5, 128, 0), (12, 64, 37), (40, 32, 1000)]:
        engine = qmc.Sobol(d, scramble=False)
        if skip:
            engine.fast_forward(skip)
        out.append({'dimensions': d, 'skip': skip, 'points': engine.random(n).tolist()})
    return {'cases': out}


def sanitize(value):
    """NaN and infinities as the strings 'NaN', 'Infinity', '-Infinity' (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return json_number(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


BENCH_OFFSETS = {'a': 0, 'b': 1, 'c': 2.5}
BENCH_CELL = {'lstm': 0, 'gru': 0.2, 'rnn': 1}


def bench_functions():
    """The functions of bench/samplers.ts, written with Optuna's suggest API."""
    def sphere(t):
        xs = [t.suggest_float(k, -5, 5) for k in ('x1', 'x2', 'x3', 'x4')]
        n = t.suggest_int('n', -10, 10)
        offset = t.suggest_categorical('offset', ['a', 'b', 'c'])
        return sum((x - 1.3) ** 2 for x in xs) + 0.1 * (n - 3) ** 2 + BENCH_OFFSETS[offset]

    def rosenbrock(t):
        x = t.suggest_float('x', -2, 2)
        y = t.suggest_float('y', -1, 3)
        k = t.suggest_int('k', 0, 20, step=2)
        shift = t.suggest_categorical('shift', [0, 0.5, 1])
        y = y - shift
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2 + 0.05 * (k - 14) ** 2 + 2 * shift

    def bowl(t):
        lr = t.suggest_float('learningRate', 1e-6, 1, log=True)
        units = t.suggest_int('units', 16, 1024, log=True)
        dropout = t.suggest_float('dropout', 0, 0.8)
        cell = t.suggest_categorical('cell', ['lstm', 'gru', 'rnn'])
        return (math.log10(lr) + 3.3) ** 2 + 0.25 * (math.log2(units) - 8) ** 2 + 4 * (dropout - 0.25) ** 2 + BENCH_CELL[cell]

    def stepped(t):
        a = t.suggest_float('a', 0, 1, step=0.05)
        b = t.suggest_float('b', 0, 1, step=0.05)
        c = t.suggest_float('c', -3, 3)
        mode = t.suggest_categorical('mode', ['low', 'high'])
        target = 0.8 if mode == 'high' else 0.2
        return (a - target) ** 2 * 10 + (b - 0.35) ** 2 * 10 + (c - 1) ** 2 + (0 if mode == 'high' else 0.3)

    return [
        ('shifted sphere (4 floats, 1 int, categorical offset)', sphere),
        ('rosenbrock (2 floats, stepped int, categorical shift)', rosenbrock),
        ('learning-rate bowl (log float, log int, float, categorical)', bowl),
        ('stepped floats with a categorical interaction', stepped),
    ]


def bench(trials, seeds):
    samplers = [('optuna tpe', lambda seed: TPESampler(seed=seed)), ('optuna random', lambda seed: optuna.samplers.RandomSampler(seed=seed))]
    for name, fn in bench_functions():
        regrets = {}
        for label, make in samplers:
            values = []
            for seed in range(seeds):
                study = optuna.create_study(sampler=make(seed))
                study.optimize(fn, n_trials=trials)
                values.append(study.best_value)
            regrets[label] = float(np.mean(values))
            print(json.dumps({'bench': 'samplers', 'function': name, 'sampler': label, 'trials': trials, 'seeds': seeds,
                              'meanRegret': float(f'{np.mean(values):.4g}'), 'medianRegret': float(f'{np.median(values):.4g}')}))
        print(json.dumps({'bench': 'samplers', 'function': name, 'tpeRegretOverRandom': float(f"{regrets['optuna tpe'] / regrets['optuna random']:.4g}")}))


def main():
    import sys
    if len(sys.argv) > 1 and sys.argv[1] == '--bench':
        bench(int(sys.argv[2]) if len(sys.argv) > 2 else 50, int(sys.argv[3]) if len(sys.argv) > 3 else 20)
        return
    os.makedirs(OUT, exist_ok=True)
    meta = {'optuna': version('optuna'), 'numpy': version('numpy'), 'scipy': version('scipy')}
    for name, make in [('tpe', tpe_goldens), ('pruners', pruner_goldens), ('importance', importance_goldens), ('sobol', sobol_goldens)]:
        data = sanitize({'generatedBy': 'scripts/make-tuning-goldens.py', 'versions': meta, **make()})
        with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
            json.dump(data, f, allow_nan=False, separators=(',', ':'))
            f.write('\n')
        print(f'wrote test/fixtures/tuning/{name}.json')


if __name__ == '__main__':
    main()
