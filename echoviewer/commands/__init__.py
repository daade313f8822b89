"""Every `echoviewer ...` subcommand that runs without Qt: argument parsing, progress, exit codes.

One module per subcommand, each exposing ``register(subparsers)`` (the parser's ``func`` default
takes the parsed args and returns the exit status); the dispatcher ``echoviewer/cli.py`` imports
them lazily by name. The window's subcommand (``gui``) needs Qt and lives in ``echoviewer/ui/cli.py``.
Commands sit above the core and the lab workflow and below ``ui``: they never import Qt or ``ui``.

    info                 commands/info.py                what the readers make of a file or folder
    synth                commands/synth.py               echo phantoms as an EchoNet-Dynamic folder
    analyze              commands/analyze.py             batch analysis, CSV report
    batch                commands/batch.py               an archive into a resumable table (local workers, Ray)
    train                commands/train.py               demo weights / fine-tuning
    export-corrections   commands/export_corrections.py  corrected loops as an EchoNet-Dynamic folder
    report               commands/report.py              PDF report and DICOM objects of a study
    evaluate             commands/evaluate.py            weights measured on a labelled EchoNet folder, report
    pacs                 commands/pacs.py                echo, find, get, send on a DICOM node (DIMSE or DICOMweb)
    demo                 commands/demo.py                demo study -> report -> window (opened by the dispatcher)
    selftest             commands/selftest.py            headless check of an install or a frozen build
"""
