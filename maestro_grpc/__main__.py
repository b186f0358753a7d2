from maestro_grpc.cli import main

raise SystemExit(main())
