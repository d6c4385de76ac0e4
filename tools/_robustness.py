# Copyright (c) cankd contributors. All rights reserved.
"""Robustness of a model to image corruptions (COCO-C, Michaelis et al.
2019; the CanKD paper's supplementary Table 1): AP per corruption and
severity, mPC (mean AP over corruptions and severities 1-5) and rPC
(mPC / clean AP). Detectors, segmentors and classifiers alike: the table's
metric is the test evaluator's headline one (COCO bbox AP, mIoU, top-1)
unless chosen.

The images are corrupted by mmdet's own ``Corrupt`` transform (the
``imagecorruptions`` package) inserted right after image loading in the
test pipeline, and evaluated by mmengine's Runner with the config's own
evaluator, as mmdet's ``tools/analysis_tools/test_robustness.py`` does.
What differs from mmdet's script (and why cankd has its own):

- mPC is the mean over the (corruption, severity) pairs that were
  evaluated. mmdet's ``robustness_eval.py`` averages a fixed 15 x 5 array
  in which pairs not evaluated count as AP 0: ``--severities 1`` alone
  reports a fifth of the real mPC.
- Names, severities and the metric's evaluator are checked before
  anything runs, and every
  requested corruption is tried once on a small image first, so that one
  that ``imagecorruptions`` cannot compute on the installed numpy /
  scikit-image is an error naming it, not a crash minutes into the run.
"""
import copy
import math
from typing import (Dict, List, Mapping, NamedTuple, Optional, Sequence,
                    Tuple)

import numpy as np

SEVERITIES = (1, 2, 3, 4, 5)
# Group names as mmdet's test_robustness.py takes them, with the subset of
# imagecorruptions.get_corruption_names() each one is.
CORRUPTION_GROUPS = {
    'benchmark': 'common',  # the 15 corruptions of COCO-C's mPC
    'all': 'all',  # the 15 and the 4 held-out ones
    'noise': 'noise',
    'blur': 'blur',
    'weather': 'weather',
    'digital': 'digital',
    'holdout': 'validation',
}
DEFAULT_METRIC = 'coco/bbox_mAP'
# The headline metric of each evaluator of mmdet, mmseg and mmpretrain, and
# the factor that shows it in %: COCO AP is a fraction, mIoU and top-1 are
# percentages already.
EVALUATOR_METRICS = {
    'CocoMetric': (DEFAULT_METRIC, 100.),
    'IoUMetric': ('mIoU', 1.),
    'Accuracy': ('accuracy/top1', 1.),
}
# The image every requested corruption is tried on before a run: large
# enough for every corruption (imagecorruptions needs 32 px), small enough
# to take milliseconds.
_PROBE_SHAPE = (48, 64, 3)


class CorruptionUnavailableError(RuntimeError):
    """``imagecorruptions`` cannot compute a corruption on this stack."""


def _imagecorruptions():
    try:
        import imagecorruptions
    except ImportError as error:
        raise ImportError(
            'Corrupted test sets need the imagecorruptions package (what '
            "mmdet's Corrupt transform calls): pip install "
            'imagecorruptions==1.1.2') from error
    return imagecorruptions


def corruption_names(group: str = 'all') -> List[str]:
    """The corruptions of a group, in ``imagecorruptions``' order.

    Args:
        group (str): A key of :data:`CORRUPTION_GROUPS`.

    Returns:
        list[str]: Corruption names.
    """
    return list(_imagecorruptions().get_corruption_names(
        CORRUPTION_GROUPS[group]))


def resolve_corruptions(names: Sequence[str]) -> List[str]:
    """Expand group names and check corruption names.

    Args:
        names (Sequence[str]): Corruption names and group names
            (``benchmark``, ``all``, ``noise``, ...), in any mix.

    Returns:
        list[str]: The corruptions, each once, in the order given.

    Raises:
        ValueError: An unknown name; the message lists the valid ones.
    """
    known = corruption_names('all')
    resolved: List[str] = []
    for name in names:
        if name in CORRUPTION_GROUPS:
            members = corruption_names(name)
        elif name in known:
            members = [name]
        else:
            raise ValueError(
                f'Unknown corruption {name!r}. Valid corruptions: '
                f'{", ".join(known)}; groups: '
                f'{", ".join(CORRUPTION_GROUPS)} (benchmark = the 15 of '
                'COCO-C, holdout = the other 4).')
        resolved += [m for m in members if m not in resolved]
    if not resolved:
        raise ValueError('No corruption given. Valid corruptions: '
                         f'{", ".join(known)}; groups: '
                         f'{", ".join(CORRUPTION_GROUPS)}.')
    return resolved


def check_severities(severities: Sequence[int]) -> List[int]:
    """Check corruption severities.

    Args:
        severities (Sequence[int]): Severities to evaluate.

    Returns:
        list[int]: The severities, each once, in the order given.

    Raises:
        ValueError: A severity outside 1-5 (the clean test set, "severity
            0", is always evaluated); the message lists the valid ones.
    """
    valid = ', '.join(map(str, SEVERITIES))
    wrong = [s for s in severities if s not in SEVERITIES]
    if wrong or not severities:
        what = 'No severity given'
        if wrong:
            what = (f'Severity {wrong[0]} is not valid' if len(wrong) == 1
                    else f'Severities {", ".join(map(str, wrong))} are not '
                    'valid')
        raise ValueError(
            f'{what}: corruption severities are {valid}. The clean test set '
            '(severity 0) is always evaluated, for rPC.')
    return list(dict.fromkeys(severities))


def broken_corruptions(corruptions: Sequence[str],
                       severities: Sequence[int]) -> Dict[str, str]:
    """Try every corruption at every severity on a small random image.

    Args:
        corruptions (Sequence[str]): Corruption names.
        severities (Sequence[int]): Severities.

    Returns:
        dict[str, str]: Each corruption that raised, with its first error
        (type and message).
    """
    corrupt = _imagecorruptions().corrupt
    image = np.random.default_rng(0).integers(
        0, 256, _PROBE_SHAPE, dtype=np.uint8)
    broken = {}
    for name in corruptions:
        for severity in severities:
            try:
                corrupt(image, severity=severity, corruption_name=name)
            except Exception as error:  # anything it raises means broken
                broken[name] = f'{type(error).__name__}: {error}'
                break
    return broken


def check_corruptions_work(corruptions: Sequence[str],
                           severities: Sequence[int]) -> None:
    """Raise unless ``imagecorruptions`` computes every requested
    corruption at every requested severity on this stack.

    Args:
        corruptions (Sequence[str]): Corruption names.
        severities (Sequence[int]): Severities.

    Raises:
        CorruptionUnavailableError: Names each corruption that fails, with
            its error, and the requested ones that work.
    """
    broken = broken_corruptions(corruptions, severities)
    if not broken:
        return
    working = [c for c in corruptions if c not in broken]
    lines = '\n'.join(f'    {name}: {error}' for name, error in broken.items())
    raise CorruptionUnavailableError(
        f'imagecorruptions cannot compute {", ".join(broken)} with the '
        f'installed numpy / scikit-image:\n{lines}\n'
        'Leave them out (--corruptions '
        f'{" ".join(working) if working else "<others>"}), or run in an '
        'environment with the numpy and scikit-image imagecorruptions was '
        'written for (docs/robustness.md lists what works where).')


def corrupted_pipeline(pipeline: Sequence[dict], corruption: str,
                       severity: int) -> List[dict]:
    """A copy of a test pipeline that corrupts each image once loaded.

    Args:
        pipeline (Sequence[dict]): Test pipeline transform configs.
        corruption (str): Corruption name.
        severity (int): Severity, 1-5.

    Returns:
        list[dict]: The pipeline with mmdet's ``Corrupt`` right after the
        first image-loading transform (before any resize, as in COCO-C).

    Raises:
        ValueError: No transform of the pipeline loads images.
    """
    pipeline = copy.deepcopy(list(pipeline))
    types = [str(t.get('type', '')) for t in pipeline]
    loaders = [i for i, t in enumerate(types) if 'LoadImage' in t]
    if not loaders:
        raise ValueError(
            'The test pipeline has no image-loading transform '
            f'(LoadImageFromFile) to corrupt after: {types}.')
    pipeline.insert(
        loaders[0] + 1,
        dict(type='mmdet.Corrupt', corruption=corruption, severity=severity))
    return pipeline


def corrupted_dataloader_cfg(dataloader_cfg: Mapping, corruption: str,
                             severity: int) -> dict:
    """A copy of a test dataloader config whose dataset corrupts images.

    Args:
        dataloader_cfg (Mapping): ``test_dataloader`` of a config.
        corruption (str): Corruption name.
        severity (int): Severity, 1-5.

    Returns:
        dict: The dataloader config.

    Raises:
        ValueError: The dataset config has no ``pipeline``.
    """
    dataloader_cfg = copy.deepcopy(dict(dataloader_cfg))
    dataset = dataloader_cfg['dataset']
    if 'pipeline' not in dataset:
        raise ValueError(
            'test_dataloader.dataset has no pipeline to corrupt (a dataset '
            'wrapper?): give the wrapped dataset its own test pipeline.')
    dataset['pipeline'] = corrupted_pipeline(dataset['pipeline'], corruption,
                                             severity)
    return dataloader_cfg


def mean_performance(results: Mapping[str, Mapping[int, float]]) -> float:
    """mPC: the mean metric over every evaluated corruption and severity.

    Args:
        results (Mapping[str, Mapping[int, float]]): Metric per corruption
            and severity (1-5).

    Returns:
        float: The mean.

    Raises:
        ValueError: Nothing was evaluated.
    """
    values = [v for per_severity in results.values()
              for v in per_severity.values()]
    if not values:
        raise ValueError('No corrupted evaluation to average.')
    return float(np.mean(values))


def relative_performance(mpc: float, clean: float) -> float:
    """rPC = mPC / clean metric; NaN when the clean metric is not positive
    (undefined).

    Args:
        mpc (float): Mean performance under corruption.
        clean (float): Metric on the clean test set.

    Returns:
        float: The ratio.
    """
    return mpc / clean if clean > 0 else math.nan


class RobustnessResults(NamedTuple):
    """What a corruption benchmark measured.

    Attributes:
        metric (str): The metric key, e.g. ``coco/bbox_mAP``.
        clean (float): Its value on the clean test set.
        corrupted (dict[str, dict[int, float]]): Its value per corruption
            and severity.
        all_metrics (dict[str, dict[int, dict]]): Every metric of every
            evaluation, the clean one under ``'clean'`` / ``0``.
    """
    metric: str
    clean: float
    corrupted: Dict[str, Dict[int, float]]
    all_metrics: Dict[str, Dict[int, dict]]

    @property
    def mpc(self) -> float:
        return mean_performance(self.corrupted)

    @property
    def rpc(self) -> float:
        return relative_performance(self.mpc, self.clean)

    def to_dict(self) -> dict:
        """JSON-ready summary: the table's numbers and every metric."""
        return dict(metric=self.metric, clean=self.clean,
                    corrupted=self.corrupted, mPC=self.mpc,
                    rPC=None if math.isnan(self.rpc) else self.rpc,
                    all_metrics=self.all_metrics)


def table_metric(evaluator_cfg, metric: Optional[str] = None
                 ) -> Tuple[str, float]:
    """The metric of the table and the factor that shows it in %, read
    from the config's test evaluator before anything runs.

    Args:
        evaluator_cfg (dict | list[dict]): ``cfg.test_evaluator``.
        metric (str, optional): The user's ``--metric``; None for the
            evaluator's headline metric.

    Returns:
        tuple[str, float]: The metric key and its scale (values of an
        evaluator cankd does not know are shown as it returns them).

    Raises:
        ValueError: No metric given and the evaluator is not one of
            :data:`EVALUATOR_METRICS`.
    """
    evaluators = (list(evaluator_cfg) if isinstance(evaluator_cfg,
                                                    (list, tuple))
                  else [evaluator_cfg])
    types = [str(e.get('type', '')).split('.')[-1] for e in evaluators]
    for evaluator, kind in zip(evaluators, types):
        if kind in EVALUATOR_METRICS:
            headline, scale = EVALUATOR_METRICS[kind]
            coco_metrics = evaluator.get('metric', 'bbox')
            if kind == 'CocoMetric' and 'bbox' not in coco_metrics:
                # Mask-only COCO evaluation: its AP is coco/segm_mAP.
                first = (coco_metrics if isinstance(coco_metrics, str)
                         else coco_metrics[0])
                headline = f'coco/{first}_mAP'
            return metric or headline, scale
    if metric is None:
        raise ValueError(
            f'test_evaluator {", ".join(types)} has no headline metric '
            f'cankd knows ({", ".join(EVALUATOR_METRICS)} do): choose the '
            'key to tabulate with --metric, as the evaluator returns it.')
    return metric, 1.


def metric_value(metrics: Mapping[str, float], metric: str) -> float:
    """``metrics[metric]``, or an error listing the metrics there are.

    Args:
        metrics (Mapping[str, float]): What an evaluator returned.
        metric (str): The key.

    Returns:
        float: The value.

    Raises:
        KeyError: ``metric`` is not among them.
    """
    if metric not in metrics:
        raise KeyError(
            f'The evaluator returned no {metric!r}; it returned '
            f'{", ".join(metrics) or "nothing"} (a detector that predicts '
            'nothing above test_cfg.score_thr gets no COCO metric). Choose '
            'one with --metric.')
    return float(metrics[metric])


def evaluate_corruptions(runner, corruptions: Sequence[str],
                         severities: Sequence[int],
                         metric: str = DEFAULT_METRIC,
                         seed: Optional[int] = 0,
                         log=print) -> RobustnessResults:
    """Evaluate a Runner's model on its clean test set, then on corrupted
    copies of it.

    Args:
        runner (mmengine.runner.Runner): Built from a test config with
            ``load_from`` set.
        corruptions (Sequence[str]): Checked corruption names.
        severities (Sequence[int]): Checked severities (1-5).
        metric (str): The metric of the table.
        seed (int, optional): Random seed set before each evaluation, so
            that random corruptions (noise, snow, ...) are reproducible.
        log (callable): Prints progress.

    Returns:
        RobustnessResults: The metric per corruption and severity.
    """
    clean_loader_cfg = copy.deepcopy(runner.cfg.test_dataloader)
    all_metrics: Dict[str, Dict[int, dict]] = {}

    def evaluate(dataloader_cfg, name: str, severity: int) -> float:
        log(f'\n[robustness] {name}, severity {severity}')
        runner.test_loop.dataloader = runner.build_dataloader(
            dataloader_cfg, seed=seed)
        if seed is not None:
            runner.set_randomness(seed)
        metrics = runner.test()
        all_metrics.setdefault(name, {})[severity] = dict(metrics)
        return metric_value(metrics, metric)

    clean = evaluate(clean_loader_cfg, 'clean', 0)
    corrupted: Dict[str, Dict[int, float]] = {}
    for corruption in corruptions:
        for severity in severities:
            corrupted.setdefault(corruption, {})[severity] = evaluate(
                corrupted_dataloader_cfg(clean_loader_cfg, corruption,
                                         severity), corruption, severity)
    return RobustnessResults(metric, clean, corrupted, all_metrics)


def format_table(results: RobustnessResults, scale: float = 100.,
                 digits: int = 1) -> str:
    """The robustness table: the metric per corruption (rows) and
    severity (columns) with each corruption's mean, then clean, mPC, rPC.

    Args:
        results (RobustnessResults): What was measured.
        scale (float): Factor for metric values (100: COCO AP in %; see
            :func:`table_metric`).
        digits (int): Decimals of metric values.

    Returns:
        str: A markdown table and three summary lines.
    """
    severities = sorted({s for per in results.corrupted.values()
                         for s in per})
    name = results.metric.split('/')[-1]
    lines = [
        '| corruption | ' + ' | '.join(f'sev {s}' for s in severities) +
        ' | mean |', '|---' * (len(severities) + 2) + '|'
    ]

    def cell(value: Optional[float]) -> str:
        return '-' if value is None else f'{value * scale:.{digits}f}'

    for corruption, per in results.corrupted.items():
        cells = [cell(per.get(s)) for s in severities]
        lines.append(f'| {corruption} | ' + ' | '.join(cells) +
                     f' | {cell(float(np.mean(list(per.values()))))} |')
    count = sum(len(per) for per in results.corrupted.values())
    rpc = results.rpc
    lines += [
        '',
        f'clean {name}: {cell(results.clean)}',
        f'mPC ({name}, mean over {count} corrupted evaluations of '
        f'{len(results.corrupted)} corruption(s)): {cell(results.mpc)}',
        'rPC (mPC / clean): ' + ('n/a (clean metric is 0)' if math.isnan(rpc)
                                  else f'{rpc * 100:.1f} %'),
    ]
    return '\n'.join(lines)
