// Accessibility checks the browser tests run inside the page (evaluated as one function body).
/* exported unlabelled, lowContrast -- called by the tests after this body is evaluated */

// Controls and links a screen reader could not name.
function unlabelled() {
  const selector = "input, select, textarea, button, a[href], audio[controls], [role=meter]";
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.getClientRects().length && el.type !== "hidden")
    .filter((el) => {
      const named = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")
        || (el.labels && el.labels.length);
      const isControl = ["INPUT", "SELECT", "TEXTAREA", "AUDIO"].includes(el.tagName)
        || el.getAttribute("role") === "meter";
      return isControl ? !named : !(named || (el.textContent || "").trim());
    })
    .map((el) => el.outerHTML.slice(0, 120));
}

// WCAG 2 contrast of every visible piece of text against the background it is drawn on.
function lowContrast() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const channel = (v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const lum = ({ r, g, b }) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const skipped = "[hidden], .sr-only, .visually-hidden, [aria-hidden=true], option, dialog:not([open])";
  const exempt = "button:disabled, input:disabled, select:disabled"; // WCAG exempts disabled controls
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.getClientRects().length) continue;
    if (el.closest(skipped) || el.closest(exempt)) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || Number(style.opacity) < 0.1) continue;
    const [hi, lo] = [lum(parse(style.color)), lum(background(el))].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    const need = large ? 3 : 4.5;
    if (ratio < need) bad.push(`${ratio.toFixed(2)} < ${need}: "${node.textContent.trim().slice(0, 40)}"`);
  }
  return bad;
}
