// Conditions on a device's attributes, as the catalogue writes them
// (traceability/catalog/conditions.py): a value, a list of values, true/false,
// or bounds { min, above, max, below }; every named attribute must hold.

const BOUNDS = {
  min: (n, b) => n >= b,
  above: (n, b) => n > b,
  max: (n, b) => n <= b,
  below: (n, b) => n < b,
};

export function matches(condition, attributes) {
  return Object.entries(condition || {}).every(([name, wanted]) => {
    const value = attributes[name];
    if (value === undefined || value === null) return false;
    if (typeof wanted === "boolean") return value === wanted;
    if (typeof wanted === "string") return value === wanted;
    if (Array.isArray(wanted)) return wanted.includes(value);
    const n = Number(value);
    return Number.isFinite(n) && Object.entries(wanted).every(([k, b]) => BOUNDS[k]?.(n, Number(b)));
  });
}

/** What the regular-dismantling rules ask of this device: every matching rule's
 * required fractions, and its groups of which one must be reported. */
export function requiredOutputs(rules, category, attributes) {
  const required = new Set();
  const oneOf = [];
  for (const rule of rules || []) {
    if (rule.category !== category || !matches(rule.match, attributes)) continue;
    for (const code of rule.required || []) required.add(code);
    for (const group of rule.one_of || []) oneOf.push(group);
  }
  return { required: [...required], oneOf };
}

/** The least weight (kg) of each key fraction for this device (bands.toml). */
export function leastWeights(bands, category, attributes) {
  const least = {};
  for (const band of bands || []) {
    if (band.category !== category || !matches(band.match, attributes)) continue;
    for (const [code, kg] of Object.entries(band.min_kg || {})) {
      least[code] = Math.max(least[code] || 0, Number(kg));
    }
  }
  return least;
}
