// A stand-in for the anywidget model: get/set/save_changes/on/off/send.
// The kernel's contract (limits, filter menus, real payloads) comes from contract.json,
// written by tests/test_widget_contract.py from ckptzoo_widgets/widget/contract.py.
import CONTRACT from "./contract.json";

export { CONTRACT };
export class FakeModel {
  constructor(state = {}) {
    this.state = { ...state };
    this.listeners = {};
    this.saved = [];
    this.sent = [];
    this.pending = {};
  }
  get(k) {
    return this.state[k];
  }
  set(k, v) {
    this.state[k] = v;
    this.pending[k] = v;
    this.emit(`change:${k}`);
  }
  save_changes() {
    this.saved.push(this.pending);
    this.pending = {};
  }
  send(msg) {
    this.sent.push(msg);
  }
  on(name, fn) {
    (this.listeners[name] ||= []).push(fn);
  }
  off(name, fn) {
    this.listeners[name] = (this.listeners[name] || []).filter((f) => f !== fn);
  }
  emit(name, ...args) {
    for (const fn of this.listeners[name] || []) fn(...args);
  }
  /** The requests the view sent (custom messages), without their sequence numbers. */
  requests() {
    return this.sent.map(({ seq: _seq, ...rest }) => rest);
  }
  /** What the kernel does after handling a request: apply changes, then say it is done. */
  answer(changes = {}) {
    this.kernelSet(changes);
    const last = this.sent.at(-1);
    this.emit("msg:custom", { done: last ? last.seq : null });
  }
  /** What the kernel does: set a trait and notify. */
  kernelSet(changes) {
    for (const [k, v] of Object.entries(changes)) {
      this.state[k] = v;
      this.emit(`change:${k}`);
    }
  }
}

export const CARDS = [
  {
    id: "digits-mlp",
    name: "Digits MLP",
    task: "image-classification",
    library: "numpy",
    license: "mit",
    num_params: 40010,
    headline_metric: "val_accuracy",
    headline_value: 0.9733,
    num_checkpoints: 8,
    created: "2024-05-01T00:00:00",
    spark: [
      [1, 0.8],
      [2, 0.9],
      [3, 0.97],
    ],
    sort_value: 0.9733,
  },
  {
    id: "digits-cnn",
    name: "Digits CNN",
    task: "image-classification",
    library: "numpy",
    license: "apache-2.0",
    num_params: 25600000,
    headline_metric: "val_accuracy",
    headline_value: 0.981,
    num_checkpoints: 1,
    created: "2024-06-01",
    spark: [],
    sort_value: 0.981,
  },
];

export const DETAIL = {
  id: "digits-mlp",
  name: "Digits MLP",
  task: "image-classification",
  library: "numpy",
  license: "mit",
  headline_metric: "val_accuracy",
  default_checkpoint: "final",
  card_html: "<h1>Digits MLP</h1><p>A small <strong>MLP</strong>.</p>",
  metadata: [
    ["id", "digits-mlp"],
    ["num_params", 40010],
    ["datasets", ["digits"]],
    ["architecture", null],
  ],
  // the kernel's decisions (widget.contract.with_decisions)
  table_metrics: [
    { name: "val_accuracy", goal: "max", logged: false },
    { name: "val_loss", goal: "min", logged: false },
  ],
  chart_metrics: [
    { name: "val_accuracy", goal: "max", logged: false },
    { name: "val_loss", goal: "min", logged: false },
  ],
  axis: { key: "step", label: "Step" },
  epoch_column: true,
  checkpoints: [
    {
      name: "epoch-1",
      step: 10,
      x: 10,
      epoch: 1,
      metrics: { val_accuracy: 0.8, val_loss: 0.9 },
      size: 160000,
      format: "safetensors",
    },
    {
      name: "epoch-5",
      step: 50,
      x: 50,
      epoch: 5,
      metrics: { val_accuracy: 0.95, val_loss: 0.2 },
      size: 160000,
      format: "safetensors",
    },
    {
      name: "final",
      step: 100,
      x: 100,
      epoch: 10,
      metrics: { val_accuracy: 0.9733, val_loss: 0.1 },
      size: 160000,
      format: "safetensors",
    },
  ],
};

/** The kernel's filter menus (labels from the contract) with these values. */
export function withValues(values) {
  return CONTRACT.filters.map((f) => ({ ...f, values: values[f.key] || [] }));
}

// The kernel's sort menu for a zoo with name, num_params, created, val_accuracy, val_loss.
export const SORT_OPTIONS = [
  { key: "", label: "Relevance", direction: "desc", value: "", group: "" },
  { key: "name", label: "Name", direction: "asc", value: "name", group: "" },
  { key: "created", label: "Newest", direction: "desc", value: "-created", group: "" },
  { key: "num_params", label: "Most parameters", direction: "desc", value: "-num_params", group: "" },
  { key: "val_accuracy", label: "Best val accuracy", direction: "desc", value: "-val_accuracy", group: "Metrics" },
  { key: "val_loss", label: "Lowest val loss", direction: "asc", value: "val_loss", group: "Metrics" },
];

export function baseState(extra = {}) {
  return {
    query: "",
    task: "",
    library: "",
    license: "",
    sort: "",
    offset: 0,
    limit: 24,
    cards: CARDS,
    total: 2,
    page_version: 1,
    loading: false,
    contract: CONTRACT.limits,
    filters: withValues({ task: ["image-classification"], library: ["numpy"], license: ["apache-2.0", "mit"] }),
    sort_options: SORT_OPTIONS,
    selected: "",
    detail: {},
    code: "",
    code_key: "",
    libraries: [],
    code_library: "",
    error: "",
    warnings: [],
    source_label: "builtin",
    ...extra,
  };
}
