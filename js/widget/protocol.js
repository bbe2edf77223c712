// The page-kernel protocol (ckptzoo_widgets/widget/contract.py, widget/base.py): the page asks,
// the kernel owns the state. Every request is a custom message {request, seq, ...fields}; the
// kernel answers {done: seq} once it handled it, and a comparison with
// {event: "compare-data", seq, data | error}. Until the kernel answers the newest request, the
// view shows what was asked (`asked`) over the model's values.

const FIELD_OF = {
  selected: ["select", "ref"],
  code_library: ["library", "library"],
  compare_set: ["compare-set", "models"], // the ticks on the cards: the kernel keeps them across reloads
};

export class Protocol {
  constructor(model) {
    this.model = model;
    this.seq = 0;
    this.asked = {}; // trait -> the value asked for, until the kernel answers
    // the newest request that changes the page (search, refresh) until the kernel answers it:
    // a page tagged with another request (`page_seq`) is an older answer and is not shown
    this.pageSeq = 0;
  }

  /** The value of a trait as the page should show it: what was asked, else the kernel's. */
  get(name) {
    return Object.prototype.hasOwnProperty.call(this.asked, name) ? this.asked[name] : this.model.get(name);
  }

  /** Send one request; returns its sequence number (null when the kernel is gone). */
  send(kind, fields = {}) {
    const seq = ++this.seq;
    try {
      this.model.send({ request: kind, seq, ...fields });
    } catch (_) {
      return null; // the kernel is gone: nothing will answer
    }
    return seq;
  }

  /** Ask for trait changes: a selection, a library, or a search (query, filters, sort, page). */
  ask(changes) {
    const names = Object.keys(changes);
    const special = names.find((k) => k in FIELD_OF);
    let seq;
    if (special) {
      const [kind, field] = FIELD_OF[special];
      seq = this.send(kind, { [field]: changes[special] });
    } else {
      seq = this.send("search", changes);
      this.pageSeq = this.seq;
    }
    Object.assign(this.asked, changes);
    return seq;
  }

  /** The Refresh button: a request that changes the page. */
  refresh() {
    this.send("refresh");
    this.pageSeq = this.seq;
  }

  /** Is the kernel's page the answer to an older request than the newest one sent? */
  staleAnswer() {
    const answered = this.model.get("page_seq");
    return this.pageSeq > 0 && typeof answered === "number" && answered !== this.pageSeq;
  }

  /**
   * A message from the kernel. Returns what it settled: {page: true} when the newest page
   * request was answered, {keys: [...]} (the traits asked for) once the newest request was.
   * Anything that is not a well-formed answer is ignored.
   */
  receive(msg) {
    const out = { page: false, keys: [] };
    if (!msg || typeof msg !== "object" || !("done" in msg)) return out;
    const done = msg.done;
    if (done !== null && (typeof done !== "number" || !Number.isFinite(done))) return out;
    if (this.pageSeq && typeof done === "number" && done >= this.pageSeq) {
      this.pageSeq = 0; // answered (or merged into a newer one): what the kernel holds now is the page
      out.page = true;
    }
    if (done !== null && done < this.seq) return out;
    out.keys = Object.keys(this.asked);
    this.asked = {};
    return out;
  }
}
