// Words for codes the server uses (states, steps, error codes), in the
// user's language. The msgids are extracted into the shared catalogue.
import { t } from "../common/i18n.js";

export function stateName(state) {
  return (
    {
      collected: t("collected"),
      in_transit: t("in transit"),
      received: t("received at plant"),
      dismantled: t("dismantled"),
    }[state] || state || t("unknown")
  );
}

export function eventName(type) {
  return (
    {
      collected: t("Collected"),
      shipped: t("Shipped"),
      received: t("Received and weighed"),
      stored: t("Stored"),
      dismantled: t("Dismantled"),
      refused: t("Refused"),
      corrected: t("Corrected"),
      lot_shipped: t("Lot shipped"),
      lot_received: t("Lot received"),
      lot_treated: t("Lot treated"),
      stocktake: t("Stocktake"),
      batch_closed: t("Batch closed"),
    }[type] || type
  );
}

export function fieldName(field) {
  const base = String(field || "").replace(/\[\d+\]/g, "").split(".").pop();
  return (
    {
      qr_id: t("Device ID"),
      weight_kg: t("Weight (kg)"),
      to: t("Destination"),
      manifest_no: t("Manifest no."),
      manifests: t("Transfer manifests"),
      number: t("Manifest no."),
      hw_code: t("Waste code"),
      transporter: t("Transporter"),
      reason: t("Reason"),
      area: t("Storage area"),
      outputs: t("Outputs"),
      fraction: t("Fraction"),
      batch: t("Batch"),
      line: t("Line"),
      lot: t("Lot"),
      method: t("Treatment method"),
      category: t("Category"),
      attributes: t("Attributes"),
      occurred_at: t("Time"),
      corrects: t("Corrected record"),
      fields: t("Corrected fields"),
      brand: t("Brand"),
      model: t("Model"),
      serial: t("Serial no."),
      source: t("Source"),
      type: t("Step"),
    }[base] || base
  );
}

/** The server's reason for refusing an item, in the user's language. */
export function reasonText(error) {
  if (!error) return "";
  switch (error.code) {
    case "invalid_transition":
      return t("The device's current state does not allow this step.");
    case "already_received":
      return t("This device has already been received here: only a shipment still on its way to you can be refused.");
    case "not_custodian":
      return t("This device or lot is not in your organisation's custody.");
    case "unknown_device":
      return t("No device with this ID has been collected.");
    case "unknown_lot":
      return t("There is no output lot with this code.");
    case "unlicensed":
      return t("The licence in the register does not cover this (category, or the processor's waste codes).");
    case "licence_not_valid":
      return t("No licence in the register is valid on this day.");
    case "manifest_in_use":
      return t("This manifest number is already used by another lot.");
    case "outputs_exceed_intake":
      return t("The outputs weigh more than the device did at intake (plus the tolerance). Check the weights.");
    case "batch_closed":
      return t("This processing batch is already closed: open a new batch.");
    case "unknown_batch":
      return t("No device has been dismantled in this processing batch.");
    case "check_character_mismatch":
      return t("The check character does not match: re-scan or retype the ID.");
    case "invalid_qr_id":
      return t("This is not a device ID.");
    case "forbidden":
      return t("Your organisation cannot record this step.");
    case "duplicate_id":
    case "id_conflict":
    case "conflict":
      return t("This conflicts with an earlier record.");
    case "invalid":
      return t("Check the field “%(field)s”.", { field: fieldName(error.field) });
    default:
      return t("The server did not accept this record.");
  }
}
