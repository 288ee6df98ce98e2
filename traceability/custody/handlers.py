"""The one registry of event handlers, keyed by event type.

A handler takes the workspace, the event's validated message and its id;
it either raises a ``TraceabilityError`` having changed nothing, or applies
the event to the workspace and returns its digest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from traceability.custody import batch_steps, device_steps, lot_steps
from traceability.custody.corrections import corrected
from traceability.custody.models import EventType
from traceability.custody.workspace import Workspace

Handler = Callable[[Workspace, Any, str], str]

HANDLERS: dict[EventType, Handler] = {
    EventType.collected: device_steps.collected,
    EventType.shipped: device_steps.shipped,
    EventType.received: device_steps.received,
    EventType.stored: device_steps.stored,
    EventType.dismantled: device_steps.dismantled,
    EventType.refused: device_steps.refused,
    EventType.corrected: corrected,
    EventType.lot_shipped: lot_steps.lot_shipped,
    EventType.lot_received: lot_steps.lot_received,
    EventType.lot_treated: lot_steps.lot_treated,
    EventType.stocktake: lot_steps.stocktake,
    EventType.batch_closed: batch_steps.batch_closed,
}
