"""Archive-scale batch analysis: a driver that walks a tree lazily, skips what is done and writes rows
as they come, over an executor (this process, local worker processes, or Ray actors) whose workers
each load the models once and run the window's ``Analyzer``.

    sources.py    the loop files to analyse: a folder tree or a list, walked lazily
    worker.py     LoopWorker: one loop opened, analysed, closed; its report rows or why it failed
    store.py      ResultStore: results.csv / failures.csv, the done-ledger, resume after a crash
    executors.py  in this process, or local worker processes (spawn), each loading the models once
    ray_engine.py Ray actors (``pip install echoviewer[cluster]``)
    driver.py     run_batch: the walk, skipping, retries, the single writer, the summary
    progress.py   the progress line with an ETA
"""
