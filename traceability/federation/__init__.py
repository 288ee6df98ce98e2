"""The regulator's instance (SPEC §3 "The regulator's instance", issue 21): importing a
plant's events through its EPCIS query, each verified against the trust file and the chain
before it is stored.

The regulator runs its own deployment of this software. ``traceability import PLANT
--from URL --token TOKEN`` pulls the plant's events with their proofs (GS1 paging), stores
each that verifies — digest recomputed, ``prev`` followed, Merkle leaf against a root the
registry holds, anchored by the submitter the register assigns to PLANT, block time within
the allowance (else ``late``) — and keeps every refusal and every anchored leaf the plant
cannot produce as an ``ImportRecord`` (a finding: ``import_refused``). Nothing here reads
the plant's database. Example::

    source = PlantSource("https://plant.example.cn", token)
    run = import_plant(trace, "DIS-SZ01", source)
    run.counts["imported"], run.counts["refused"], run.counts["missing"]
"""

from traceability.federation.importer import ImportRun
from traceability.federation.service import import_plant, watch
from traceability.federation.source import ImportFailed, PlantSource

__all__ = ["ImportFailed", "ImportRun", "PlantSource", "import_plant", "watch"]
