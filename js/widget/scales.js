// Pure functions behind the charts: scales, tick positions and tick labels.
// No DOM here, so every rule is unit-tested in vitest (test/scales.test.js).

/** A "nice" step (1, 2, 2.5 or 5 times a power of ten) close to span / count. */
export function niceStep(span, count = 5) {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Round a value to the precision of its step, so 0.30000000000000004 prints as 0.3. */
function clean(value, step) {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  return Number(value.toFixed(Math.min(20, digits)));
}

/**
 * Linear ticks covering [lo, hi]: the domain widened to whole steps, and the ticks.
 * A flat series (lo === hi) gets a small band around its value.
 */
export function linearTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { domain: [0, 1], ticks: [0, 0.5, 1], step: 0.5 };
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.05 || 1;
    lo = Math.max(lo - pad, -Number.MAX_VALUE);
    hi = Math.min(hi + pad, Number.MAX_VALUE);
  }
  // Values near ±1.8e308 (float64's end): hi - lo overflows, so the step is found from half the span.
  const step = Number.isFinite(hi - lo) ? niceStep(hi - lo, count) : 2 * niceStep(hi / 2 - lo / 2, count);
  const start = Math.max(Math.floor(lo / step + 1e-9) * step, -Number.MAX_VALUE);
  const end = Math.min(Math.ceil(hi / step - 1e-9) * step, Number.MAX_VALUE);
  const ticks = [];
  for (let i = 0, v = start; v <= end + step * 1e-9 && i < 100; i += 1, v = start + i * step)
    ticks.push(clean(v, step));
  return { domain: [clean(start, step), clean(end, step)], ticks, step };
}

/**
 * The log axis transform: log10(1 + x) (a "symlog" with a linear part below 1),
 * so step 0 sits at the axis start and 1, 10, 100, ... are evenly spaced above it.
 * Negative values mirror positive ones.
 */
export function symlog(x) {
  return Math.sign(x) * Math.log10(1 + Math.abs(x));
}

/** Log axis when the positive values span at least two decades (Pythia: step 1 ... 143000). */
export function shouldUseLog(values) {
  const xs = (values || []).filter((v) => Number.isFinite(v));
  if (xs.some((v) => v < 0)) return false;
  const positive = xs.filter((v) => v > 0);
  if (positive.length < 2) return false;
  return Math.max(...positive) / Math.min(...positive) >= 100;
}

/** Ticks for the log axis: 0 when the data has it, then powers of ten (with 2 and 5 when decades are few). */
export function logTicks(lo, hi) {
  const ticks = [];
  if (lo <= 0) ticks.push(0);
  const from = Math.floor(Math.log10(Math.max(1, lo)));
  const to = Math.ceil(Math.log10(Math.max(1, hi)));
  const decades = to - from;
  const mults = decades <= 2 ? [1, 2, 5] : [1];
  for (let e = from; e <= to; e += 1) {
    for (const m of mults) {
      const v = m * Math.pow(10, e);
      if (v >= Math.max(lo, 1) && v <= hi * 1.0001 && !ticks.includes(v)) ticks.push(v);
    }
  }
  // The axis ends at the data's last value; show it too unless a tick sits right next to it.
  const last = ticks[ticks.length - 1];
  if (hi > 0 && (last === undefined || symlog(hi) - symlog(last) > 0.25)) ticks.push(hi);
  return ticks;
}

/**
 * A scale from data space to pixels. kind "linear" or "log" (symlog above).
 * Returns { map(v) -> px, ticks, domain, kind }.
 */
export function makeScale(values, [p0, p1], { kind = "linear", count = 5, nice = true } = {}) {
  const xs = (values || []).filter((v) => Number.isFinite(v));
  const lo = xs.length ? Math.min(...xs) : 0;
  const hi = xs.length ? Math.max(...xs) : 1;
  let domain;
  let ticks;
  let f = (v) => v;
  if (kind === "log") {
    f = symlog;
    domain = [lo, hi];
    ticks = logTicks(lo, hi);
  } else if (nice) {
    ({ domain, ticks } = linearTicks(lo, hi, count));
  } else {
    const t = linearTicks(lo, hi, count);
    domain = lo === hi ? t.domain : [lo, hi];
    ticks = t.ticks.filter((v) => v >= domain[0] - 1e-12 && v <= domain[1] + 1e-12);
  }
  const d0 = f(domain[0]);
  const d1 = f(domain[1]);
  // In halves: the difference of two finite values (±1e308) may overflow, half of it never does.
  const map = (v) => (d1 === d0 ? (p0 + p1) / 2 : p0 + ((f(v) / 2 - d0 / 2) / (d1 / 2 - d0 / 2)) * (p1 - p0));
  return { map, ticks, domain, kind };
}

/** Short tick labels: 1000 -> "1k", 143000 -> "143k", 2500000 -> "2.5M", 0.25 -> "0.25". */
export function formatTick(v) {
  if (!Number.isFinite(v)) return "";
  const a = Math.abs(v);
  const trim = (x) => String(Number(x.toPrecision(3)));
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  if (a === 0) return "0";
  return String(Number(v.toPrecision(4)));
}
