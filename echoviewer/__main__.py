from echoviewer.cli import main

raise SystemExit(main())
