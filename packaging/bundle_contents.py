"""What goes into the PyInstaller bundle and what stays out, shared by dsaviewer.spec and
build.py. Each rule says why; docs/packaging.md has the sizes they save."""

from __future__ import annotations

from pathlib import PurePosixPath

VARIANTS = ("cpu", "cuda")

# Never shipped: the training package, test-only packages (labelme is GPL and test-only), the
# ONNX exporter, and what optional imports would drag in although the program never uses it.
EXCLUDED_MODULES = [
    "training",
    "tests",
    "pytest",
    "_pytest",
    "pytestqt",
    "labelme",
    "imgviz",
    "loguru",
    "onnx",
    # onnxruntime's tool packages import onnx, and some of them torch; the runtime needs none.
    "onnxruntime.transformers",
    "onnxruntime.quantization",
    "onnxruntime.tools",
    "onnxruntime.training",
    "onnxruntime.backend",
    # pyqtgraph's optional parts: examples, 3-D (OpenGL), Jupyter; its plotting never runs here.
    "pyqtgraph.examples",
    "pyqtgraph.opengl",
    "pyqtgraph.jupyter",
    "scipy",
    "matplotlib",
    "IPython",
    "tkinter",
    "_tkinter",
    "sympy",
    "networkx",
    "jinja2",
    "setuptools",
    "pkg_resources",
    "pip",
    "ruff",
    # Qt modules the viewer does not use (pyqtgraph imports QtSvg and QtTest only if present;
    # it needs QtOpenGL and QtOpenGLWidgets, which stay).
    "PySide6.QtNetwork",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtSvg",
    "PySide6.QtSvgWidgets",
    "PySide6.QtTest",
    "PySide6.QtPrintSupport",
    "PySide6.QtSql",
    "PySide6.QtXml",
    "PySide6.QtDBus",
    "PySide6.QtConcurrent",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtStateMachine",
    "PyQt5",
    "PyQt6",
    "PySide2",
    # Pillow draws Labelme shapes and reads PNGs; its AVIF codec alone is 5 MB.
    "PIL.AvifImagePlugin",
    "PIL._avif",
]

# Left out of the CPU build, which runs the ONNX exports: torch and the modules that need it.
TORCH_MODULES = [
    "torch",
    "torchvision",
    "torchaudio",
    "functorch",
    "triton",
    "dsaviewer.models",
    "dsaviewer.inference.torch_backend",
    "dsaviewer.inference.weights",
    "dsaviewer.inference.device",
    "dsaviewer.inference.probability_modules",
]

# Qt plugin folders the viewer needs: platforms (filtered below), image formats, icon engines,
# widget styles (Windows' native look), input methods, and xcb's OpenGL glue on Linux.
_QT_PLUGIN_FOLDERS = {
    "platforms",
    "imageformats",
    "iconengines",
    "styles",
    "platforminputcontexts",
    "xcbglintegrations",
}
# offscreen and minimal for the self-test and headless use, plus each system's own.
_QT_PLATFORMS = ("offscreen", "minimal.", "xcb", "windows", "cocoa")
# Qt libraries only the dropped plugins and modules load.
_QT_LIBRARIES_DROPPED = (
    "Qt6Quick",
    "Qt6Qml",
    "Qt6Pdf",
    "Qt6VirtualKeyboard",
    "Qt6WaylandClient",
    "Qt6WaylandEgl",
    "Qt6WlShell",
    "Qt6EglFs",
    "Qt6Network",
    "Qt6Test",
)


def is_excluded(module: str, excluded: list[str]) -> bool:
    """``module`` is one of ``excluded`` or inside one of them."""
    return any(module == name or module.startswith(name + ".") for name in excluded)


def keep_file(destination: str, variant: str) -> bool:
    """Whether a collected binary or data file (its path inside the bundle) is shipped."""
    path = PurePosixPath(destination.replace("\\", "/"))
    parts, name = path.parts, path.name
    if parts and parts[0] == "PySide6":
        if "translations" in parts:
            return False  # the viewer's text is English; Qt's own dialogs stay English too
        if "plugins" in parts[:-1]:
            folder = parts[parts.index("plugins") + 1]
            if folder == "platforms":
                return any(platform in name for platform in _QT_PLATFORMS)
            return folder in _QT_PLUGIN_FOLDERS
    if any(library in name for library in _QT_LIBRARIES_DROPPED):
        return False
    # A CPU build has no torch; this also keeps stray CUDA wheels (nvidia-*) out.
    return variant != "cpu" or not any(part.startswith(("torch", "nvidia")) for part in parts)


def version_info_text(version: str, variant: str) -> str:
    """The Windows version resource (PyInstaller's VSVersionInfo text form) for ``version``
    ("0.1.0" or "0.1.0.dev3": the numeric part goes into the fixed fields)."""
    numbers = [int(part) for part in version.split(".")[:4] if part.isdigit()]
    fixed = tuple((numbers + [0, 0, 0, 0])[:4])
    strings = {
        "CompanyName": "DSA Viewer project",
        "FileDescription": f"DSA Viewer ({variant.upper()} build) - research software, "
        "not for diagnosis",
        "FileVersion": version,
        "InternalName": "DSAViewer",
        "LegalCopyright": "Proprietary research software",
        "OriginalFilename": "DSAViewer.exe",
        "ProductName": "DSA Viewer",
        "ProductVersion": version,
    }
    entries = ",\n".join(
        f"          StringStruct({key!r}, {value!r})" for key, value in strings.items()
    )
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={fixed},
    prodvers={fixed},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0)
  ),
  kids=[
    StringFileInfo([
      StringTable(
        '040904B0',
        [
{entries}
        ])
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
