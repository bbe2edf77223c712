// A small state store: the page's own UI state (what is not the kernel's), read by the renders.
// The kernel's state is read through the protocol (its values, or what was asked for).

export class Store {
  constructor(protocol, ui = {}) {
    this.protocol = protocol;
    this.ui = { ...ui };
    this.listeners = [];
  }

  /** A kernel trait as the page shows it (protocol.get: what was asked, else the kernel's). */
  get(name) {
    return this.protocol.get(name);
  }

  /** Change UI state; subscribers hear which keys changed. */
  set(changes) {
    Object.assign(this.ui, changes);
    for (const fn of this.listeners) fn(Object.keys(changes));
  }

  subscribe(fn) {
    this.listeners.push(fn);
    return () => (this.listeners = this.listeners.filter((f) => f !== fn));
  }
}
