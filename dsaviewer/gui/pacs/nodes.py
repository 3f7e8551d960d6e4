"""The PACS nodes of the preferences (name, AE title, host, port) and our own AE title, kept
in QSettings."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings

from dsaviewer.io.pacs import DEFAULT_CALLING_AET, PacsError, PacsNode

NODES = "pacs/nodes"
OWN_AET = "pacs/own_aet"
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class NamedNode:
    name: str
    called_aet: str
    host: str
    port: int

    def node(self, calling_aet: str) -> PacsNode:
        return PacsNode(self.host, self.port, self.called_aet, calling_aet, TIMEOUT_S)


def read_nodes(settings: QSettings) -> list[NamedNode]:
    """The configured nodes; malformed entries (hand-edited files) are skipped."""
    nodes = []
    size = settings.beginReadArray(NODES)
    try:
        for index in range(size):
            settings.setArrayIndex(index)
            try:
                node = NamedNode(
                    str(settings.value("name", "")),
                    str(settings.value("aet", "")),
                    str(settings.value("host", "")),
                    int(settings.value("port", 0)),
                )
                node.node(DEFAULT_CALLING_AET)  # validates port and AE title
            except (TypeError, ValueError, PacsError):
                continue
            nodes.append(node)
    finally:
        settings.endArray()
    return nodes


def write_nodes(settings: QSettings, nodes: list[NamedNode]) -> None:
    settings.remove(NODES)
    settings.beginWriteArray(NODES, len(nodes))
    for index, node in enumerate(nodes):
        settings.setArrayIndex(index)
        settings.setValue("name", node.name)
        settings.setValue("aet", node.called_aet)
        settings.setValue("host", node.host)
        settings.setValue("port", node.port)
    settings.endArray()
    settings.sync()


def own_aet(settings: QSettings) -> str:
    return str(settings.value(OWN_AET, DEFAULT_CALLING_AET)) or DEFAULT_CALLING_AET


def set_own_aet(settings: QSettings, title: str) -> None:
    settings.setValue(OWN_AET, title)
    settings.sync()
