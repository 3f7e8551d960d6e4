import sys

from dsaviewer.cli import main

sys.exit(main())
