import { t } from "../common/i18n.js";
export const placeholder = () => t("Scanner");
