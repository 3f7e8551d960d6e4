"""The packaged program's entry point: the ``dsaviewer`` command (viewer, ``analyze``,
``--selftest``). Kept outside the package so PyInstaller does not put ``dsaviewer/`` itself on
the import path, where ``dsaviewer/io`` would shadow the standard library's ``io``."""

import sys

from dsaviewer.cli import main

if __name__ == "__main__":
    sys.exit(main())
