// The list: the toolbar's menus (filters, sort), the status line, the page of cards and the pager.
// Every menu and label comes from the kernel (filters, sort_options, cards); renders read state
// and write DOM, and the view's delegated listeners act on data-action attributes.
import { h } from "../dom.js";
import { renderCard } from "../cards.js";

/** One select per filter the kernel offers, its current value chosen. */
export function filterSelects(doc, filters, valueOf) {
  return filters.map((f) => {
    const current = valueOf(f.key) || "";
    const values = Array.from(f.values || []);
    if (current && !values.includes(current)) values.push(current);
    const sel = h(
      doc,
      "select",
      {
        class: "cz-select",
        "data-testid": `cz-filter-${f.key}`,
        "data-filter": f.key,
        "aria-label": `Filter by ${String(f.label).toLowerCase()}`,
      },
      h(doc, "option", { value: "", text: f.all_label }),
      ...values.map((v) => h(doc, "option", { value: v, text: v })),
    );
    sel.value = current;
    sel.disabled = values.length === 0;
    return sel;
  });
}

/** One select per range filter the kernel offers (a live zoo's parameter count): its preset ranges. */
export function rangeSelects(doc, ranges, valueOf) {
  return ranges.map((r) => {
    const current = valueOf(r.key) || "";
    const options = Array.from(r.options || []);
    if (current && !options.some((o) => o.value === current)) options.push({ value: current, label: current });
    const sel = h(
      doc,
      "select",
      {
        class: "cz-select",
        "data-testid": `cz-filter-${r.key}`,
        "data-filter": r.key,
        "aria-label": `Filter by ${String(r.label).toLowerCase()}`,
      },
      h(doc, "option", { value: "", text: r.all_label }),
      ...options.map((o) => h(doc, "option", { value: o.value, text: o.label })),
    );
    sel.value = current;
    return sel;
  });
}

/** The sort menu's options, grouped as the kernel groups them. */
export function sortItems(doc, options) {
  const items = [];
  const groups = new Map();
  for (const o of options) {
    const option = h(doc, "option", { value: o.value, text: o.label });
    if (!o.group) items.push(option);
    else {
      if (!groups.has(o.group)) {
        groups.set(o.group, h(doc, "optgroup", { label: o.group }));
        items.push(groups.get(o.group));
      }
      groups.get(o.group).appendChild(option);
    }
  }
  return items;
}

/** "No models match", with close ids to try and a way to clear the filters or the search. */
function noMatch(doc, { suggestions, filtered, query }) {
  const out = [h(doc, "span", { "data-testid": "cz-no-match", text: "No models match." })];
  if (suggestions.length) {
    out.push(h(doc, "span", { text: "Did you mean" }));
    for (const id of suggestions)
      out.push(
        h(doc, "button", {
          type: "button",
          class: "cz-link",
          "data-testid": "cz-suggestion",
          "data-action": "suggest",
          "data-id": id,
          text: id,
        }),
      );
  }
  if (filtered || query)
    out.push(
      h(doc, "button", {
        type: "button",
        class: "cz-link",
        "data-testid": "cz-clear",
        "data-action": filtered ? "clear-filters" : "clear-search",
        text: filtered ? "Clear the filters" : "Clear the search",
      }),
    );
  return out;
}

/**
 * The status line: a spinner while busy, "1–24 of 300 models" ("1–24 of 24+ models" when the
 * source does not say how many: `total` null), or what to try when nothing matched.
 */
export function statusNodes(doc, state) {
  const { total, offset, shown, busy, error } = state;
  const out = [];
  if (busy) out.push(h(doc, "span", { class: "cz-spinner", "data-testid": "cz-loading", "aria-label": "loading" }));
  if (total === 0 || (total === null && shown === 0)) {
    if (!error && !busy && total === 0) out.push(...noMatch(doc, state));
    return out;
  }
  const en = (n) => n.toLocaleString("en-US");
  const count = total === null ? `${en(offset + shown)}${state.more ? "+" : ""}` : en(total);
  const plural = total === 1 ? "" : "s";
  out.push(
    h(doc, "span", {
      "data-testid": "cz-count",
      text: `${en(offset + 1)}–${en(offset + shown)} of ${count} model${plural}`,
    }),
  );
  return out;
}

/** The kernel's notes on this page (a source that could not answer, a sort it cannot do): one line each. */
export function noteNodes(doc, notes) {
  return (notes || []).map((n) => h(doc, "div", { class: "cz-note", "data-testid": "cz-note", text: String(n) }));
}

/** The page of cards (the compare checkboxes are added by the compare panel). */
export function cardNodes(doc, cards, { sortKey, filters }) {
  return cards.map((c) => renderCard(doc, c, { sortKey, filters }));
}

/**
 * The pager's state: hidden on a single page, buttons enabled where there is a page to go to.
 * When the source does not say how many (`total` null), "Load more" while it says there are (`more`).
 */
export function pagerState({ total, limit, offset, more = false }) {
  if (total === null || total === undefined)
    return { hidden: !more && offset === 0, prev: offset > 0, next: false, more, label: "" };
  return {
    hidden: total <= limit && offset === 0,
    prev: offset > 0,
    next: offset + limit < total,
    more: false,
    label: `page ${Math.floor(offset / limit) + 1} of ${Math.max(1, Math.ceil(total / limit)).toLocaleString("en-US")}`,
  };
}

/** What "Load more" asks for: more cards on this page up to the kernel's largest page, then the next page. */
export function loadMoreChanges({ limit, offset }, contract) {
  const step = contract.page_size;
  return limit + step <= contract.max_limit ? { limit: limit + step } : { offset: offset + limit };
}
