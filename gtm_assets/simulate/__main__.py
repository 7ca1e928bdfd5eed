"""`python -m gtm_assets.simulate`: the same as `gtm simulate`."""

from gtm_assets.cli.simulate import main

raise SystemExit(main())
