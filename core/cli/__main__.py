"""``python -m agent_tui.cli``: the headless CLI without the app."""

import sys

from agent_tui.cli import main

sys.exit(main())
