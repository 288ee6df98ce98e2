"""Evidence reports (issue 20 item 5): a device's and a finding's records as a PDF with the
CJK font embedded, their digests and anchors, the proof attached and a QR; ``python -m
ledger.verify REPORT.pdf`` checks it against a real anvil with the trust file alone, and an
edited record or attachment fails naming what differs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from ledger.evidence import evidence_digest, qr_digest, read_pdf, report_problems
from ledger.node import ManagedNode
from tests.browser.test_zh_words import ALLOWED, english_words
from tests.support.evidence import anvil_demo, dismantled_at, edit_receipt
from tests.support.live import LiveServer
from tests.support.web import sign_in
from traceability.anchoring.connection import trust_path
from traceability.app import trace_of
from traceability.audit.findings import Finding
from traceability.audit.listing import snapshot_for
from traceability.audit.snapshots import SnapshotCache
from traceability.demo import PASSWORD

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]
#: The demo quarter is anchored today on anvil: lateness is allowed for (a century).
ANCHORED_TODAY = 100 * 365 * 86_400


@pytest.fixture(scope="module")
def server(anvil_node: ManagedNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with anvil_demo(tmp_path_factory.mktemp("evidence"), anvil_node) as live:
        yield live


@pytest.fixture
def auditor(server: LiveServer) -> FlaskClient:
    client = server.client()
    assert sign_in(client, "js.auditor", PASSWORD).status_code == 302
    return client


def findings(server: LiveServer) -> list[Finding]:
    """The audit's findings over everything so far (the snapshot the refresher made)."""
    trace = trace_of(server.app)
    with Session(trace.engine) as session:
        return list(snapshot_for(session, trace, SnapshotCache(), None).findings)


def verify(server: LiveServer, path: Path) -> subprocess.CompletedProcess[str]:
    """``python -m ledger.verify`` in its own process: the trust file and the RPC, no DB."""
    settings = trace_of(server.app).settings
    return subprocess.run(
        [sys.executable, "-m", "ledger.verify", str(path), "--rpc", str(settings.ledger_url),
         "--trust", str(trust_path(settings)), "--max-delay", str(ANCHORED_TODAY)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip


def js_device(server: LiveServer, plant: str = "DIS-SZ01") -> str:
    return dismantled_at(server.app, plant)


def download(client: FlaskClient, url: str, path: Path, lang: str = "zh-CN") -> Path:
    response = client.get(url, headers={"Accept-Language": lang})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    path.write_bytes(response.get_data())
    return path


def attached(path: Path) -> dict[str, Any]:
    parts = read_pdf(path)
    assert parts.evidence is not None, parts.problems
    return parts.evidence


def test_a_device_report_lists_its_records_and_verifies_against_the_chain(
    server: LiveServer, auditor: FlaskClient, tmp_path: Path
) -> None:
    qr_id = js_device(server)
    pdf = download(auditor, f"/portal/devices/{qr_id}/evidence.pdf", tmp_path / "device.pdf")
    evidence = attached(pdf)
    [bundle] = evidence["bundles"]
    assert bundle["subject"] == {"device": qr_id}
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    compact = "".join(text.split())
    for event in bundle["events"]:
        assert event["digest"] in compact  # every record's digest, whole
        assert event["anchor"]["root"] in compact and event["anchor"]["tx_hash"] in compact
    assert "北京时间" in text and "设备证据报告" in text
    command = "python -m ledger.verify REPORT.pdf --rpc URL --trust TRUST.json"
    assert english_words(text.replace(command, ""), ALLOWED | {"evidence.json"}) == []
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "NotoSansCJK" in fonts and "yes" in fonts  # embedded (subset)
    qr = read_pdf(pdf).qr
    assert qr is not None and urlparse(qr).path.endswith(f"/d/{qr_id}")
    assert qr_digest(qr) == evidence_digest(evidence)
    done = verify(server, pdf)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout and "NOT VERIFIED" not in done.stdout


def test_the_report_reads_in_english_too(
    server: LiveServer, auditor: FlaskClient, tmp_path: Path
) -> None:
    qr_id = js_device(server)
    pdf = download(auditor, f"/portal/devices/{qr_id}/evidence.pdf", tmp_path / "en.pdf", "en")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Device evidence report" in text and "Beijing time" in text
    assert "设备证据报告" not in text


def test_a_swapped_attachment_fails_naming_the_qr_digest(
    server: LiveServer, auditor: FlaskClient, tmp_path: Path
) -> None:
    """An attacker swapping the attached evidence for another's: the QR no longer matches."""
    qr_id = js_device(server)
    pdf = download(auditor, f"/portal/devices/{qr_id}/evidence.pdf", tmp_path / "a.pdf")
    other = js_device(server, "DIS-NJ01")
    other_pdf = download(auditor, f"/portal/devices/{other}/evidence.pdf", tmp_path / "b.pdf")
    parts = read_pdf(pdf)
    parts.evidence = attached(other_pdf)
    problems = report_problems(parts)
    assert any("QR holds evidence digest" in p for p in problems), problems
    assert any("is not printed on the report" in p for p in problems), problems


def test_a_finding_report_carries_its_devices_proofs(
    server: LiveServer, auditor: FlaskClient, tmp_path: Path
) -> None:
    finding = next(f for f in findings(server) if f.devices and f.org == "DIS-SZ01")
    pdf = download(
        auditor,
        f"/portal/findings/evidence.pdf?rule={finding.rule}&plant={finding.org}"
        f"&subject={finding.subject}",
        tmp_path / "finding.pdf",
    )
    evidence = attached(pdf)
    assert evidence["about"]["finding"] == {
        "rule": finding.rule,
        "org": finding.org,
        "subject": finding.subject,
    }
    subjects = {b["subject"].get("device") for b in evidence["bundles"]}
    assert set(finding.devices[:20]) <= subjects
    done = verify(server, pdf)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_device_page_lets_scripts_reach_the_chain_s_rpc_and_nothing_else(
    server: LiveServer, auditor: FlaskClient
) -> None:
    qr_id = js_device(server)
    response = auditor.get(f"/portal/devices/{qr_id}")
    rpc = urlparse(str(trace_of(server.app).settings.ledger_url))
    policy = response.headers["Content-Security-Policy"]
    assert f"connect-src 'self' {rpc.scheme}://{rpc.netloc}" in policy
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    page = response.get_data(as_text=True)
    assert 'id="verify-page"' in page and f'data-rpc="{rpc.geturl()}"' in page
    other = auditor.get("/portal/anomalies")
    assert "connect-src" not in other.headers["Content-Security-Policy"]


def test_a_finding_report_needs_its_fields_and_the_region(
    server: LiveServer, auditor: FlaskClient
) -> None:
    missing = auditor.get("/portal/findings/evidence.pdf?rule=x&plant=DIS-SZ01")
    assert missing.status_code == 422 and "subject" in missing.get_data(as_text=True)
    elsewhere = next(f for f in findings(server) if f.org == "DIS-BJ01")
    outside = auditor.get(
        f"/portal/findings/evidence.pdf?rule={elsewhere.rule}&plant={elsewhere.org}"
        f"&subject={elsewhere.subject}"
    )
    assert outside.status_code == 403


def test_a_record_edited_after_anchoring_fails_naming_the_event(
    server: LiveServer, auditor: FlaskClient, tmp_path: Path
) -> None:
    qr_id = js_device(server, "DIS-WX02")
    edited = edit_receipt(server.app, qr_id)
    pdf = download(auditor, f"/portal/devices/{qr_id}/evidence.pdf", tmp_path / "edited.pdf")
    done = verify(server, pdf)
    assert done.returncode == 1, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if edited in x)
    assert "tampered" in line
