// Number, size and date formatting for the zoo browser. Pure functions.

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** Parameter counts: 950, 40.0K, 25.6M, 1.3B. Missing -> "—". */
export function formatCount(n) {
  if (!isNum(n)) return "—";
  const a = Math.abs(n);
  const units = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [size, unit] of units) {
    if (a >= size * 0.9995) {
      const v = n / size;
      return (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)) + unit;
    }
  }
  return String(Math.round(n));
}

/** Byte sizes in powers of 1024: 512 B, 40.2 KiB, 3.1 MiB (as humanize.human_bytes in Python). */
export function formatBytes(n) {
  if (!isNum(n)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Metrics: accuracies in [0, 1] as 0.9733, losses like 0.0812, big values with
 * thousands separators; integers stay integers. */
export function formatMetric(v) {
  if (!isNum(v)) return "—";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return v.toLocaleString("en-US");
  const a = Math.abs(v);
  if (a >= 1000) return v.toLocaleString("en-US", { maximumFractionDigits: 1 });
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(3);
  if (a === 0) return "0";
  if (a >= 1e-3) return v.toFixed(4);
  return v.toExponential(2);
}

/** Dates: keep the ISO day; anything else is shown as given. */
export function formatDate(s) {
  if (s === null || s === undefined || s === "") return "—";
  const str = String(s);
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(str);
  return m ? m[1] : str;
}

const LABELS = {
  id: "ID",
  name: "Name",
  num_params: "Parameters",
  num_checkpoints: "Checkpoints",
  created: "Created",
  updated: "Updated",
  task: "Task",
  library: "Library",
  framework: "Framework",
  architecture: "Architecture",
  license: "Licence",
  datasets: "Datasets",
  tags: "Tags",
  base_model: "Base model",
  repo: "Repository",
  source: "Source",
  headline_value: "Headline metric",
};

/** Sentence-case label for a metric or column name: val_accuracy -> "Val accuracy". */
export function labelFor(key) {
  if (key in LABELS) return LABELS[key];
  const text = String(key).replace(/_/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A small debounce with cancel/flush/pending; `ms` a number or a function read at each call. */
export function debounce(fn, ms) {
  let timer = null;
  let lastArgs = null;
  const wrapped = (...args) => {
    lastArgs = args;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(
      () => {
        timer = null;
        fn(...lastArgs);
      },
      typeof ms === "function" ? ms() : ms,
    );
  };
  wrapped.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  wrapped.pending = () => timer !== null;
  wrapped.flush = () => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
      fn(...lastArgs);
    }
  };
  return wrapped;
}
