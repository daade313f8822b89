"""`echoviewer batch ROOT|--files-from LIST --out DIR`: an archive analysed into one resumable table.

Loops are opened, analysed and closed one at a time per worker; results.csv (`analyze`'s report
rows) and failures.csv grow as loops finish; a rerun skips what is done. Workers: this process,
``--jobs N`` local processes, or Ray actors (``--ray local`` or ``--ray ADDRESS``)."""

from __future__ import annotations

import sys
from pathlib import Path

from echoviewer.commands.analyze import add_model_options, model_settings


def register(sub) -> None:
    p = sub.add_parser(
        "batch", help="analyse an archive into a resumable results table (local workers or a Ray cluster)",
        description="Walk a folder tree (or a list of paths) and analyse every loop, writing DIR/results.csv "
                    "(the analyze report's rows) and DIR/failures.csv as it goes. Rerun the same command to "
                    "resume: loops already done with the same weights and settings are skipped.")
    p.add_argument("root", nargs="?", help="a folder tree of loops (or one loop file)")
    p.add_argument("--files-from", metavar="LIST", help="analyse the paths listed in LIST instead (one per line; "
                                                        "- reads stdin); e.g. one shard per Slurm array task")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (resumed when it holds a run)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="local worker processes, each loading the models once (default 1: this process); "
                        "with --ray, the number of actors (default: one per GPU, else per CPU)")
    p.add_argument("--threads", type=int, default=0, metavar="T",
                   help="torch threads per worker (default: this machine's cores shared out)")
    p.add_argument("--ray", metavar="ADDRESS|local",
                   help="run on Ray: 'local' starts a cluster here, ADDRESS joins one "
                        "(pip install echoviewer[cluster])")
    p.add_argument("--gpus-per-worker", type=float, default=None, metavar="F",
                   help="with --ray: GPU fraction per actor (default 1 when the cluster has GPUs, else 0)")
    add_model_options(p)
    p.add_argument("--quiet", action="store_true", help="no progress line (failures are still said)")
    p.set_defaults(func=run)


def _executor(args, settings):
    if args.ray:
        from echoviewer.batch.ray_engine import RayExecutor

        return RayExecutor(args.ray, settings, actors=args.jobs or 0, threads=args.threads,
                           gpus=args.gpus_per_worker)
    jobs = args.jobs or 1
    if jobs == 1:
        from echoviewer.batch.executors import InProcess

        return InProcess(settings, args.threads)
    from echoviewer.batch.executors import ProcessPool

    return ProcessPool(settings, jobs, args.threads)


def run(args) -> int:
    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if (args.root is None) == (args.files_from is None):
        say("error: give a folder or --files-from LIST (one of them)")
        return 2
    source = args.root if args.root is not None else args.files_from
    if source != "-" and not Path(source).exists():
        say(f"error: {source}: no such file or folder")
        return 2
    if args.jobs is not None and args.jobs < 1:
        say("error: --jobs must be 1 or more")
        return 2
    try:
        settings = model_settings(args)
    except ValueError as exc:
        say(f"error: {exc}")
        return 2
    if args.ray:
        from echoviewer.batch.ray_engine import RayUnavailable, import_ray

        try:
            import_ray()  # before anything slow: without Ray, say at once how to get it
        except RayUnavailable as exc:
            say(f"error: --ray: {exc}")
            return 2

    from echoviewer.batch.driver import run_batch
    from echoviewer.batch.progress import BatchProgress
    from echoviewer.batch.sources import count_paths, iter_paths
    from echoviewer.batch.store import RESULTS, ResultStore, StoreError
    from echoviewer.batch.worker import expected_key
    from echoviewer.models import WeightsError

    try:
        key = expected_key(settings)
        store = ResultStore(args.out, key, about={"settings": vars(settings)})
    except (WeightsError, StoreError, OSError) as exc:
        say(f"error: {exc}")
        return 2
    if store.done or store.dropped:
        say(f"resuming: {len(store.done)} loops done in {args.out}"
            + (f" ({store.dropped} rows of unfinished loops dropped)" if store.dropped else ""))
    executor = None
    try:
        try:
            executor = _executor(args, settings)
            for line in executor.describe():
                say(line)
        except Exception as exc:  # weights that do not load, a cluster that cannot be reached
            from echoviewer.errors import one_line

            say(f"error: {one_line(exc)}")
            return 2
        files_from = args.files_from
        root = None if files_from is not None else args.root
        progress = BatchProgress(count_paths(root, files_from), enabled=not args.quiet)
        try:
            summary = run_batch(iter_paths(root, files_from), store, executor, progress)
        except StoreError as exc:  # a worker with other weights: its rows must not join this table
            progress.end()
            say(f"error: {exc}")
            return 2
        progress.end()
    finally:
        store.close()
        if executor is not None:
            executor.close()
    say(summary.line())
    say(f"results: {Path(args.out) / RESULTS}")
    if summary.failed and not (summary.done or summary.skipped):
        say("error: no loop could be analysed")
        return 2
    return 0
