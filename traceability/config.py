"""Typed settings read from ``TRACE_*`` environment variables."""

from __future__ import annotations

import json
import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ledger.keys import checked_address, checked_key


class ConfigurationError(RuntimeError):
    """The deployment is misconfigured (e.g. no secret outside development)."""


class Settings(BaseSettings):
    """Every knob of a deployment. Environment variables are ``TRACE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TRACE_", extra="ignore")

    env: Literal["development", "test", "production"] = "production"
    data_dir: Path = Path("data")
    database_url: str | None = None
    # SQLite: how long a write waits for another writer's lock; then the request is
    # answered 503 with Retry-After (nothing was written) rather than held longer.
    database_busy_timeout_s: float = Field(default=30.0, gt=0)
    secret_key: str | None = None
    public_url: str = "http://localhost:5000"
    # Where the public device page's "report a problem" link leads. The default is
    # the national environmental complaint line 12369 of the Ministry of Ecology
    # and Environment (生态环境部 12369 环保举报热线); a regulator may give its own URL.
    public_report_url: str = "tel:12369"

    # Ledger: "managed" starts a local anvil node in data_dir; "rpc" talks to
    # ledger_url; "memory" is an in-process eth-tester chain (unit tests only);
    # "off" records events without anchoring (they stay pending).
    ledger_mode: Literal["managed", "rpc", "memory", "off"] = "managed"
    ledger_url: str | None = None
    ledger_key: str | None = None
    # The registry owner (the regulator) deploys and authorises submitters;
    # needed only by `traceability ledger deploy` on an external chain.
    ledger_owner_key: str | None = None
    ledger_port: int = Field(default=8545, gt=0, lt=65536)
    ledger_contract: str | None = None
    # The JSON-RPC URL a reviewer's browser reads the registry through ("verify this
    # page"; the portal's pages allow it in connect-src). Default: ledger_url in rpc
    # mode, the managed node's local URL in managed mode; none in memory/off mode.
    ledger_public_rpc: str | None = None
    ledger_confirmations: int = Field(default=0, ge=0)
    anchor_interval_s: float = Field(default=5.0, gt=0)
    anchor_batch_max: int = Field(default=10_000, gt=0)
    anchor_in_background: bool = True
    # Trust anchors (SPEC §3): what verification trusts, from configuration,
    # never from the database. In rpc mode a plant points ledger_trust_file at
    # the file the regulator publishes (`traceability ledger deploy --out`), or
    # sets the four values below one by one; in managed mode they are recorded
    # once at deploy in data_dir/trust.json.
    ledger_trust_file: Path | None = None
    ledger_chain_id: int | None = None
    ledger_genesis_hash: str | None = None
    ledger_registry_owner: str | None = None
    # Submitter addresses whose anchors count (default: the trust file's, else this
    # deployment's own): one address, a comma-separated list or a JSON list.
    ledger_submitters: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # How often the worker enumerates this submitter's anchors on chain and
    # checks the database still holds every anchored event.
    completeness_interval_s: float = Field(default=300.0, gt=0)
    # Chain calls made while serving a web request must not hold it for long.
    ledger_request_timeout_s: float = Field(default=3.0, gt=0)
    # The anchoring worker's (and the CLI's) patience with one chain call: a
    # slow node is waited for this long, a hung one costs one timeout.
    ledger_worker_timeout_s: float = Field(default=10.0, gt=0)
    # The public /d/{ID} badge is cached this long per device and chain head.
    badge_cache_s: float = Field(default=60.0, ge=0)
    # Audit findings and portal figures are snapshots made off the request path
    # (`traceability audit refresh --watch`, run by `serve`): recomputed when the
    # log or the anchors changed and the snapshot is older than audit_refresh_s,
    # and in any case once it is older than audit_recheck_s (a direct edit of a
    # row changes no count). Kept: everything so far, the current quarter and
    # this many closed quarters.
    audit_refresh_s: float = Field(default=60.0, ge=0)
    audit_recheck_s: float = Field(default=900.0, gt=0)
    audit_closed_quarters: int = Field(default=5, ge=1, le=40)
    audit_refresh_in_background: bool = True
    # An event anchored later than this after its recorded_at (or in a block timed
    # before it) verifies as `late` (SPEC §3 "Time"): the anchoring interval plus a
    # tolerated ledger outage (practice default: a day).
    anchor_max_delay_s: int = Field(default=86_400, gt=0)
    # A worker's claim on a batch it is sending; another worker may take it over after this.
    anchor_lease_s: float = Field(default=120.0, gt=0)

    # Accounts: API tokens expire after this many days.
    token_ttl_days: int = Field(default=365, gt=0)
    # Browser sign-in (/scan, /portal): a session lasts a shift. Failed
    # sign-ins within the window are counted per (username, client address)
    # and per address, on every worker (in the database); past the free ones
    # each further failure doubles the wait (from login_delay_s up to
    # login_max_delay_s) before that address may try again. Nothing locks an
    # account: the user still signs in from an address that has not failed.
    session_hours: float = Field(default=12.0, gt=0)
    login_free_failures: int = Field(default=5, gt=0)
    login_free_failures_per_address: int = Field(default=20, gt=0)
    login_delay_s: float = Field(default=5.0, gt=0)
    login_max_delay_s: float = Field(default=600.0, gt=0)
    login_window_s: int = Field(default=3600, gt=0)
    # Reverse proxies in front of the app (the plant's TLS terminator): trust
    # this many X-Forwarded-For/-Proto hops. 0: the app is reached directly.
    proxy_hops: int = Field(default=0, ge=0, le=5)
    # A dismantling whose outputs exceed the intake weight by more than this
    # percentage is physically impossible and rejected.
    dismantle_tolerance_pct: Decimal = Field(default=Decimal(5), ge=0, le=100)
    # Licence checks at recording (SPEC §2.8, custody/licence_checks.py): "registered"
    # refuses a dismantling or a hazardous lot shipment that the organisation's licences
    # in the register do not cover, and lets through organisations the register holds
    # no licence of that kind for (deployments from before the licence register);
    # "strict" refuses those too; "off" checks nothing.
    licence_checks: Literal["registered", "strict", "off"] = "registered"

    # Rate schedules a deployment supplies beside the national ones (a TOML file of
    # [[schedules]]). The 2024–2027 central special fund (以奖代补, allocated to the
    # provinces by formula) sets no per-unit rate: such a file is the deployment's own.
    rate_schedules: Path | None = None
    # The plants' declared operations (lines with their design throughput per category,
    # working hours) the audit reads beside its practice defaults (audit/operations.py).
    plant_operations: Path | None = None
    # Claims (SPEC §2.6): a quarter's claim is accepted from its close (China time) until
    # this many days after it. Practice default, not an official figure (each province
    # sets its own deadline for the quarter's 拆解处理情况表 in its notices).
    claim_window_days: int = Field(default=90, gt=0, le=36_500)
    # The claim policy (which row flags exclude, what hazardous outputs need, the
    # quantity certification): a TOML file replacing traceability/claims/data/policy.toml.
    claim_policy: Path | None = None
    # Label sheet PDFs each user may have made within an hour (counted in
    # labels; a 1000-label sheet takes seconds of a worker). One large sheet
    # at a time per user; a sheet is always allowed in an hour with none.
    labels_per_hour: int = Field(default=5000, gt=0)
    # A CJK font file to embed in PDFs (claims, label sheets); default: Debian's
    # fonts-noto-cjk (Noto Sans CJK SC).
    cjk_font: Path | None = None

    max_events_per_request: int = Field(default=1000, gt=0)
    max_content_length: int = Field(default=4 * 1024 * 1024, gt=0)
    # Tolerated clock skew of handhelds when they send occurred_at.
    future_skew_s: int = Field(default=300, ge=0)

    @model_validator(mode="after")
    def _require_secret(self) -> Settings:
        if self.env == "production" and not self.secret_key:
            raise ConfigurationError(
                "TRACE_SECRET_KEY is required in production "
                "(set TRACE_ENV=development for a local instance)"
            )
        if self.ledger_mode == "rpc" and not self.ledger_url:
            raise ConfigurationError("TRACE_LEDGER_MODE=rpc needs TRACE_LEDGER_URL")
        if self.ledger_trust_file is not None and self.ledger_mode != "rpc":
            raise ConfigurationError(
                "TRACE_LEDGER_TRUST_FILE names the regulator's chain: "
                "it needs TRACE_LEDGER_MODE=rpc"
            )
        self._check_ledger_values()
        return self

    @field_validator("ledger_trust_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: Any) -> Any:
        """``TRACE_LEDGER_TRUST_FILE=`` (empty) is no trust file, not the current directory."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("ledger_submitters", mode="before")
    @classmethod
    def _split_submitters(cls, value: Any) -> Any:
        """One address, ``A,B`` or a JSON list ``["A", "B"]`` (an empty string: none)."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                raise ConfigurationError(
                    "TRACE_LEDGER_SUBMITTERS is not a JSON list: give one address, "
                    'addresses separated by commas, or a JSON list ["0x…", "0x…"]'
                ) from None
        return [part.strip() for part in text.split(",") if part.strip()]

    def _check_ledger_values(self) -> None:
        """Keys and addresses, each refused with the variable it came from (never a traceback)."""
        try:
            for name in ("ledger_key", "ledger_owner_key"):
                value = getattr(self, name)
                if value is not None and value.strip():
                    setattr(self, name, checked_key(value, f"TRACE_{name.upper()}"))
                elif value is not None:
                    setattr(self, name, None)  # set but empty: not configured
            for name in ("ledger_contract", "ledger_registry_owner"):
                value = getattr(self, name)
                if value:
                    setattr(self, name, checked_address(value, f"TRACE_{name.upper()}"))
            self.ledger_submitters = [
                checked_address(str(s), "TRACE_LEDGER_SUBMITTERS: the address")
                for s in self.ledger_submitters
            ]
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    @property
    def rate_files(self) -> tuple[Path, ...]:
        """The deployment's rate-schedule files (beside the national schedule)."""
        return (self.rate_schedules.resolve(),) if self.rate_schedules else ()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'trace.db').resolve()}"

    @property
    def secret_key_path(self) -> Path:
        """Where a development or test instance keeps the key it made itself."""
        return self.data_dir / "secret_key"

    def resolved_secret_key(self) -> str:
        """TRACE_SECRET_KEY, or (development and test only: validator above) the data
        directory's own random key, made on first use. Never a key anyone else knows:
        a public one would let anybody forge a session cookie."""
        if self.secret_key:
            return self.secret_key
        return local_secret(self.secret_key_path)


def local_secret(path: Path) -> str:
    """The random key stored at ``path`` (mode 0600), created if there is none yet.

    Gunicorn workers may start together: the key is written to a file of its
    own and linked into place, so every worker reads the one that won.
    """
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process was first: use its key
    finally:
        draft.unlink()
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ConfigurationError(f"{path} holds no usable secret key: delete it to make a new one")
    return key
