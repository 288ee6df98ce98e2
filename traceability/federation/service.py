"""One import of a plant, and the watch loop that repeats it (``traceability import``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlmodel import Session

from ledger.errors import LedgerError
from traceability.anchoring.service import reader_ledger
from traceability.context import Trace
from traceability.federation.importer import Importer, ImportRun, plant_ledger
from traceability.federation.source import ImportFailed, PlantSource
from traceability.register.log import register_of

log = logging.getLogger(__name__)


def plant_submitter(session: Session, plant: str) -> str:
    """The address the regulator's register assigns ``plant`` (ImportFailed naming the fix)."""
    facts = register_of(session, [plant]).get(plant)
    if facts is None:
        raise ImportFailed(
            f"no organisation {plant[:32]} in this deployment's register: add it first "
            "(`traceability orgs add`)",
            field="plant",
        )
    if not facts.submitter:
        raise ImportFailed(
            f"the register assigns no submitter to {plant}: authorise its address first "
            f"(`traceability ledger authorize ADDR --org {plant}`)",
            field="plant",
        )
    return facts.submitter


def _check_source(source: PlantSource, plant: str, submitter: str) -> None:
    """The URL must be the deployment that anchors with ``plant``'s submitter."""
    info = source.ledger_info()
    theirs = info.get("submitter")
    if not isinstance(theirs, str) or theirs.lower() != submitter.lower():
        raise ImportFailed(
            f"{source.url} anchors with {theirs or 'no submitter'}, but the register assigns "
            f"{submitter} to {plant}: is it {plant}'s deployment?",
            field="plant",
        )


def import_plant(trace: Trace, plant: str, source: PlantSource) -> ImportRun:
    """Pull the plant's EPCIS events, store those that verify, account for every anchor."""
    try:
        with Session(trace.engine) as session:
            submitter = plant_submitter(session, plant)
            ledger = plant_ledger(reader_ledger(session, trace.ledger), submitter)
        _check_source(source, plant, submitter)
        importer = Importer(trace.engine, ledger, source, ImportRun(plant, submitter))
        importer.load_anchors()
        for document in source.pages():
            importer.page(document)
        importer.complete()
    except LedgerError as exc:
        raise ImportFailed(f"the ledger cannot be read: {exc}") from None
    return importer.run


def watch(
    trace: Trace,
    plant: str,
    source: PlantSource,
    *,
    interval_s: float,
    report: Callable[[ImportRun], None],
    stop: threading.Event | None = None,
) -> None:
    """Import every ``interval_s`` until ``stop`` is set (or forever): a service beside the
    anchoring worker. A plant that cannot be reached is logged and asked again next time."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            report(import_plant(trace, plant, source))
        except ImportFailed as exc:
            log.error("import of %s failed: %s", plant, exc.message)
        stop.wait(interval_s)
