// A few DOM helpers: elements are built with `h`, never from HTML strings, so that no text a
// peer sends can become markup.

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

/** Creates `<tag>` with attributes (`false`/`undefined` ones left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** The element with this id, which the page must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** Replaces the children of `parent`, keeping the focus on the element with the same
 * `data-key` if one had it. */
export function replaceChildren(parent: HTMLElement, children: Node[]): void {
  const focused = document.activeElement instanceof HTMLElement && parent.contains(document.activeElement)
    ? document.activeElement.closest<HTMLElement>("[data-key]")?.dataset.key
    : undefined;
  parent.replaceChildren(...children);
  if (focused !== undefined) {
    for (const element of parent.querySelectorAll<HTMLElement>("[data-key]")) {
      if (element.dataset.key === focused) {
        element.focus();
        break;
      }
    }
  }
}
