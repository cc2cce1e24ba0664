/*!
 * ivig-chat widget: a grounded follow-up-question chat for an evidence article.
 * Vanilla ES2020, no dependencies, loads nothing from third parties.
 *
 * Embed:
 *   <script src="https://HOST/widget/ivig-chat.js" data-api-base="https://HOST"
 *           data-article-id="ivig-ms" async></script>
 * Optional: data-target="#element-id" mounts into that element instead of right after the tag.
 * Programmatic: window.IvigChat.mount(element, { apiBase, articleId }).
 *
 * Security: server text is only ever placed into the DOM with textContent / createTextNode.
 * The Markdown subset renderer below builds elements itself; nothing uses innerHTML.
 */
(() => {
  'use strict';

  const VERSION = '1.0.0';
  const MAX_LEN = 2000;
  const COUNTER_FROM = 1800;
  const DEFAULT_ARTICLE = 'ivig-ms';
  const DEFAULT_AUDIENCE = 'clinician';
  const AUDIENCES = [
    { value: 'clinician', label: 'Healthcare professional' },
    { value: 'patient', label: 'Patient or caregiver' },
  ];
  const STATUS_LABELS = {
    abstained: "Not covered by this article's sources",
    refused: 'Outside what this assistant can help with',
  };
  const URGENT_TITLE = 'This may be an emergency — get emergency care now.';
  const URGENT_TEXT =
    'Call your local emergency number (for example 911, 112 or 999) or go to the nearest emergency department. Do not wait for an online answer.';
  const KEY_PREFIX = 'ivig-chat:';
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // ---------------------------------------------------------------- small helpers

  /** Create an element. attrs: class, text, hidden, and plain attributes. Never innerHTML. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = String(v);
        else if (k === 'hidden') el.hidden = true;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    appendAll(el, children);
    return el;
  }

  function appendAll(parent, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) appendAll(parent, c);
      else if (typeof c === 'string') parent.appendChild(document.createTextNode(c));
      else parent.appendChild(c);
    }
  }

  function svgIcon(paths, extraClass) {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '18');
    svg.setAttribute('height', '18');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('fill', 'none');
    svg.setAttribute('stroke', 'currentColor');
    svg.setAttribute('stroke-width', '2');
    svg.setAttribute('stroke-linecap', 'round');
    svg.setAttribute('stroke-linejoin', 'round');
    svg.setAttribute('class', 'icon' + (extraClass ? ' ' + extraClass : ''));
    for (const d of paths) {
      const p = document.createElementNS(SVG_NS, 'path');
      p.setAttribute('d', d);
      svg.appendChild(p);
    }
    return svg;
  }

  const THUMB_PATHS = [
    'M7 10v11',
    'M15 5.9 14 10h5.8a2 2 0 0 1 2 2.4l-1.4 7A2 2 0 0 1 18.4 21H4a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1h3l3.6-7.2A1.6 1.6 0 0 1 12 2a3 3 0 0 1 3 3.9z',
  ];

  const store = {
    get(key) {
      try {
        return window.localStorage.getItem(KEY_PREFIX + key);
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        window.localStorage.setItem(KEY_PREFIX + key, value);
      } catch {
        /* storage unavailable (private mode, sandboxed frame): keep going without it */
      }
    },
    remove(key) {
      try {
        window.localStorage.removeItem(KEY_PREFIX + key);
      } catch {
        /* ignore */
      }
    },
  };

  function safeHttpUrl(url) {
    if (typeof url !== 'string' || !url.trim()) return null;
    try {
      const u = new URL(url.trim(), window.location.href);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch {
      return null;
    }
  }

  function escapeRegExp(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }

  function asText(v) {
    return v === null || v === undefined ? '' : String(v);
  }

  // ---------------------------------------------------------------- disclaimer stripping

  /** Remove a trailing copy of the disclaimer (and a separator / "Disclaimer:" label before it). */
  function stripTrailingDisclaimer(answer, disclaimer) {
    let text = asText(answer);
    const d = asText(disclaimer).trim();
    if (!d) return text.replace(/\s+$/, '');
    const words = d.split(/\s+/).map(escapeRegExp);
    // whitespace-insensitive, optionally wrapped in emphasis markers or a blockquote
    const re = new RegExp(
      '(?:^|\\s)(?:>\\s*)?[*_]{0,3}' + words.join('[\\s>]+') + '[*_]{0,3}\\s*$'
    );
    const m = re.exec(text);
    if (!m) return text.replace(/\s+$/, '');
    text = text.slice(0, m.index);
    return cleanTail(text);
  }

  function cleanTail(text) {
    let prev;
    do {
      prev = text;
      text = text.replace(/\s+$/, '');
      text = text.replace(/(?:^|\n)[ \t]*(?:-{3,}|\*{3,}|_{3,})[ \t]*$/, ''); // horizontal rule
      text = text.replace(/(?:^|\n)[ \t]*(?:>\s*)?[*_]{0,3}disclaimer[*_]{0,3}:?[*_]{0,3}[ \t]*$/i, '');
    } while (text !== prev);
    return text;
  }

  /** While streaming: hide the disclaimer (known from an earlier answer) as it arrives. */
  function hideStreamingDisclaimer(text, disclaimer) {
    const d = asText(disclaimer).trim();
    if (!d) return text;
    const head = d.slice(0, Math.min(40, d.length));
    const at = text.indexOf(head);
    if (at !== -1) return cleanTail(text.slice(0, at).replace(/(?:>\s*)?[*_]{1,3}$/, ''));
    const tail = text.replace(/\s+$/, '');
    for (let k = Math.min(head.length - 1, tail.length); k >= 12; k--) {
      if (tail.endsWith(d.slice(0, k))) {
        return cleanTail(tail.slice(0, tail.length - k).replace(/(?:>\s*)?[*_]{1,3}$/, ''));
      }
    }
    return text;
  }

  // ---------------------------------------------------------------- Markdown (safe subset)

  /**
   * Render the Markdown subset the server emits into a DocumentFragment:
   * paragraphs, line breaks, - / * / 1. lists (nested by indentation), **bold**, *italic*,
   * `code`, headings (as bold paragraphs), > quotes, and citation markers [n] / [n, m].
   * makeChip(n, citation) returns a node for a marker whose n matches a citation.
   */
  function renderMarkdown(md, citationsByN, makeChip) {
    const frag = document.createDocumentFragment();
    const lines = asText(md).replace(/\r\n?/g, '\n').split('\n');
    let para = null; // current <p>
    let listStack = []; // [{el, indent, lastLi}]
    let quote = null;

    const closePara = () => {
      para = null;
    };
    const closeLists = () => {
      listStack = [];
    };
    const closeQuote = () => {
      quote = null;
    };
    const inline = (parent, text) => renderInline(parent, text, citationsByN, makeChip);

    for (const raw of lines) {
      const line = raw.replace(/\s+$/, '');
      if (!line.trim()) {
        closePara();
        closeLists();
        closeQuote();
        continue;
      }
      const item = /^(\s*)(?:([-*+])|(\d{1,3})[.)])\s+(.*)$/.exec(line);
      if (item) {
        closePara();
        closeQuote();
        const indent = item[1].replace(/\t/g, '    ').length;
        const ordered = item[3] !== undefined;
        while (listStack.length && indent < listStack[listStack.length - 1].indent) listStack.pop();
        let top = listStack[listStack.length - 1];
        if (top && indent > top.indent + 1 && top.lastLi) {
          const sub = h(ordered ? 'ol' : 'ul');
          top.lastLi.appendChild(sub);
          top = { el: sub, indent, lastLi: null, ordered };
          listStack.push(top);
        } else if (!top || top.ordered !== ordered) {
          if (top) listStack.pop();
          const list = h(ordered ? 'ol' : 'ul');
          if (ordered && item[3] !== '1') list.setAttribute('start', item[3]);
          const parentTop = listStack[listStack.length - 1];
          if (parentTop && parentTop.lastLi) parentTop.lastLi.appendChild(list);
          else frag.appendChild(list);
          top = { el: list, indent, lastLi: null, ordered };
          listStack.push(top);
        }
        const li = h('li');
        inline(li, item[4]);
        top.el.appendChild(li);
        top.lastLi = li;
        continue;
      }
      const top = listStack[listStack.length - 1];
      if (top && top.lastLi && /^\s+\S/.test(line)) {
        // continuation of a list item
        top.lastLi.appendChild(h('br'));
        inline(top.lastLi, line.trim());
        continue;
      }
      closeLists();
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      if (heading) {
        closePara();
        closeQuote();
        const p = h('p', { class: 'md-heading' });
        const strong = h('strong');
        inline(strong, heading[1].replace(/\s+#+$/, ''));
        p.appendChild(strong);
        frag.appendChild(p);
        continue;
      }
      if (/^\s*(?:-{3,}|\*{3,}|_{3,})\s*$/.test(line)) {
        closePara();
        closeQuote();
        frag.appendChild(h('hr'));
        continue;
      }
      const q = /^\s*>\s?(.*)$/.exec(line);
      if (q) {
        closePara();
        if (!quote) {
          quote = h('blockquote', { class: 'md-quote' });
          frag.appendChild(quote);
        } else {
          quote.appendChild(h('br'));
        }
        inline(quote, q[1]);
        continue;
      }
      closeQuote();
      if (para) {
        para.appendChild(h('br'));
      } else {
        para = h('p');
        frag.appendChild(para);
      }
      inline(para, line.trim());
    }
    return frag;
  }

  const CITE_RE = /^\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/;

  function renderInline(parent, text, citationsByN, makeChip) {
    let buf = '';
    const flush = () => {
      if (buf) {
        parent.appendChild(document.createTextNode(buf));
        buf = '';
      }
    };
    let i = 0;
    const n = text.length;
    while (i < n) {
      const ch = text[i];
      if (ch === '\\' && i + 1 < n && /[\\`*_[\]#>-]/.test(text[i + 1])) {
        buf += text[i + 1];
        i += 2;
        continue;
      }
      if (ch === '`') {
        const end = text.indexOf('`', i + 1);
        if (end > i + 1) {
          flush();
          parent.appendChild(h('code', { text: text.slice(i + 1, end) }));
          i = end + 1;
          continue;
        }
      }
      if ((ch === '*' || ch === '_') && text[i + 1] === ch) {
        const marker = ch + ch;
        const end = text.indexOf(marker, i + 2);
        if (end > i + 2 && !/\s/.test(text[i + 2]) && !/\s/.test(text[end - 1])) {
          flush();
          const strong = h('strong');
          renderInline(strong, text.slice(i + 2, end), citationsByN, makeChip);
          parent.appendChild(strong);
          i = end + 2;
          continue;
        }
      }
      if (ch === '*' || ch === '_') {
        const prev = i > 0 ? text[i - 1] : ' ';
        const okOpen =
          i + 1 < n && !/\s/.test(text[i + 1]) && text[i + 1] !== ch && (ch === '*' || !/\w/.test(prev));
        if (okOpen) {
          let end = -1;
          for (let j = i + 2; j < n; j++) {
            if (text[j] !== ch) continue;
            if (text[j + 1] === ch) {
              j++; // skip a ** / __ pair inside
              continue;
            }
            if (/\s/.test(text[j - 1])) continue;
            if (ch === '_' && j + 1 < n && /\w/.test(text[j + 1])) continue;
            end = j;
            break;
          }
          if (end !== -1) {
            flush();
            const em = h('em');
            renderInline(em, text.slice(i + 1, end), citationsByN, makeChip);
            parent.appendChild(em);
            i = end + 1;
            continue;
          }
        }
      }
      if (ch === '[') {
        const m = CITE_RE.exec(text.slice(i, i + 40));
        if (m) {
          const nums = m[1].split(',').map((s) => parseInt(s.trim(), 10));
          if (nums.every((k) => citationsByN.has(k))) {
            // keep the chip on the same line as the word before it
            if (/[^\s] $/.test(buf)) buf = buf.slice(0, -1) + '\u00a0';
            flush();
            nums.forEach((k) => parent.appendChild(makeChip(k, citationsByN.get(k))));
            i += m[0].length;
            continue;
          }
        }
      }
      buf += ch;
      i++;
    }
    flush();
  }

  // ---------------------------------------------------------------- SSE parsing

  function createSSEParser(onEvent) {
    let buf = '';
    let name = '';
    let data = [];
    let first = true;
    const dispatch = () => {
      if (data.length) onEvent(name || 'message', data.join('\n'));
      name = '';
      data = [];
    };
    const line = (l) => {
      if (l === '') return dispatch();
      if (l[0] === ':') return undefined;
      const idx = l.indexOf(':');
      const field = idx === -1 ? l : l.slice(0, idx);
      let value = idx === -1 ? '' : l.slice(idx + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
      return undefined;
    };
    return {
      push(chunk) {
        buf += chunk;
        if (first && buf) {
          if (buf[0] === '\uFEFF') buf = buf.slice(1);
          first = false;
        }
        for (;;) {
          const i = buf.search(/\r\n|\r|\n/);
          if (i === -1) break;
          if (buf[i] === '\r' && i === buf.length - 1) break; // maybe a \r\n split across chunks
          const len = buf[i] === '\r' && buf[i + 1] === '\n' ? 2 : 1;
          const l = buf.slice(0, i);
          buf = buf.slice(i + len);
          line(l);
        }
      },
      end() {
        if (buf) line(buf.replace(/\r$/, ''));
        buf = '';
        dispatch();
      },
    };
  }

  // ---------------------------------------------------------------- HTTP

  class ChatError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status || 0;
    }
  }

  const NETWORK_MESSAGE =
    "We couldn't reach the question service. Please check your connection and try again.";

  async function errorFromResponse(res) {
    let code = 'http_' + res.status;
    let message = '';
    try {
      const body = await res.json();
      if (body && body.error) {
        if (body.error.code) code = String(body.error.code);
        if (body.error.message) message = String(body.error.message);
      } else if (body && typeof body.detail === 'string') {
        message = body.detail;
      }
    } catch {
      /* not JSON */
    }
    if (!message) {
      message =
        res.status === 429
          ? 'Too many questions in a short time. Please wait a moment and try again.'
          : res.status >= 500
            ? `The question service had a problem (HTTP ${res.status}). Please try again.`
            : `The question could not be answered (HTTP ${res.status}).`;
    }
    return new ChatError(code, message, res.status);
  }

  function isAbort(e) {
    return e && (e.name === 'AbortError' || e.code === 20);
  }

  async function jsonFetch(url, init) {
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      if (isAbort(e)) throw e;
      throw new ChatError('network', NETWORK_MESSAGE, 0);
    }
    return res;
  }

  /**
   * POST the question to /v1/chat/stream and feed events to onEvent(name, payload).
   * Resolves with the done object; rejects with ChatError (or AbortError).
   */
  async function streamChat(apiBase, body, onEvent, signal) {
    const init = {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
      signal,
    };
    let res = await jsonFetch(apiBase + '/v1/chat/stream', init);
    if (res.status === 404 || res.status === 405 || res.status === 501) {
      // no streaming endpoint: fall back to the plain one (unless it was a real API error)
      const copy = res.clone();
      let apiError = false;
      try {
        const j = await copy.json();
        apiError = !!(j && j.error);
      } catch {
        apiError = false;
      }
      if (!apiError) {
        res = await jsonFetch(apiBase + '/v1/chat', {
          ...init,
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        });
      }
    }
    if (!res.ok) throw await errorFromResponse(res);
    const ctype = (res.headers.get('content-type') || '').toLowerCase();
    if (ctype.includes('application/json')) {
      const obj = await res.json();
      onEvent('done', obj);
      return obj;
    }

    let done = null;
    let failure = null;
    const parser = createSSEParser((name, raw) => {
      if (done || failure) return;
      let payload;
      try {
        payload = JSON.parse(raw);
      } catch {
        return;
      }
      if (name === 'error') {
        const err = (payload && payload.error) || {};
        failure = new ChatError(
          asText(err.code) || 'stream_error',
          asText(err.message) || 'Something went wrong while answering. Please try again.',
          0
        );
        return;
      }
      if (name === 'done') done = payload;
      onEvent(name, payload);
    });

    try {
      if (!res.body || typeof res.body.getReader !== 'function') {
        parser.push(await res.text());
        parser.end();
      } else {
        const reader = res.body.getReader();
        const decoder = new TextDecoder('utf-8');
        for (;;) {
          const { value, done: eof } = await reader.read();
          if (eof) break;
          parser.push(decoder.decode(value, { stream: true }));
          if (done || failure) {
            reader.cancel().catch(() => {});
            break;
          }
        }
        if (!done && !failure) {
          parser.push(decoder.decode());
          parser.end();
        }
      }
    } catch (e) {
      if (isAbort(e)) throw e;
      if (!done && !failure) {
        throw new ChatError(
          'interrupted',
          'The connection was interrupted before the answer finished. Please try again.',
          0
        );
      }
    }
    if (failure) throw failure;
    if (!done) {
      throw new ChatError(
        'interrupted',
        'The connection was interrupted before the answer finished. Please try again.',
        0
      );
    }
    return done;
  }

  // ---------------------------------------------------------------- styles

  const CSS = `
:host { all: initial !important; display: block !important; }
[hidden] { display: none !important; }
.ivc {
  box-sizing: border-box;
  display: block;
  max-width: 720px;
  width: 100%;
  margin: 0 auto;
  padding: 20px;
  background: #ffffff;
  color: #1f2933;
  border: 1px solid #cfd6de;
  border-radius: 12px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif;
  font-size: 16px;
  font-weight: 400;
  font-style: normal;
  line-height: 1.55;
  letter-spacing: normal;
  word-spacing: normal;
  text-align: left;
  text-transform: none;
  text-indent: 0;
  white-space: normal;
  overflow-wrap: anywhere;
  -webkit-text-size-adjust: 100%;
  text-size-adjust: 100%;
}
/* resets use :where() so they never outrank the component rules below */
:where(.ivc) *, :where(.ivc) *::before, :where(.ivc) *::after { box-sizing: border-box; }
:where(.ivc) :where(p, ul, ol, li, blockquote, h2, fieldset, legend, form) { margin: 0; padding: 0; }
:where(.ivc) :where(button, input, textarea) { font: inherit; color: inherit; letter-spacing: inherit; text-transform: none; }
:where(.ivc) button { cursor: pointer; }
:where(.ivc) button:disabled { cursor: not-allowed; }
:where(.ivc) :focus { outline: none; }
:where(.ivc) :focus-visible { outline: 3px solid #1a56db; outline-offset: 2px; }
.ivc .question-input:focus { outline: 3px solid #1a56db; outline-offset: 1px; }
.sr-only {
  position: absolute !important; width: 1px !important; height: 1px !important; padding: 0 !important;
  margin: -1px !important; overflow: hidden !important; clip: rect(0 0 0 0) !important;
  clip-path: inset(50%) !important; white-space: nowrap !important; border: 0 !important;
}

/* header */
.ivc-header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 8px 12px; margin-bottom: 12px; }
.ivc-title { font-size: 21px; line-height: 1.3; font-weight: 700; color: #111827; }
.ivc-subtitle { flex-basis: 100%; font-size: 14px; color: #4b5563; }
.btn-secondary {
  display: inline-flex; align-items: center; gap: 6px;
  min-height: 36px; padding: 6px 12px;
  background: #ffffff; color: #1e4e8c; border: 1px solid #9fb3c8; border-radius: 8px;
  font-size: 14px; font-weight: 600; line-height: 1.2;
}
.btn-secondary:hover:not(:disabled) { background: #eef4fb; border-color: #1e4e8c; }

/* audience */
.audience { border: 0; margin: 0 0 14px; padding: 0; min-width: 0; }
.audience-legend { font-size: 15px; font-weight: 600; color: #1f2933; margin-bottom: 6px; padding: 0; }
.audience-options { display: flex; flex-wrap: wrap; gap: 8px; }
.audience-option {
  display: inline-flex; align-items: center; gap: 8px;
  min-height: 40px; padding: 6px 14px 6px 10px;
  border: 1px solid #9aa5b1; border-radius: 999px; background: #ffffff;
  font-size: 15px; cursor: pointer; user-select: none;
}
.audience-option:hover { border-color: #1e4e8c; }
.audience-option:has(input:checked) { border-color: #1e4e8c; background: #eef4fb; color: #12345f; font-weight: 600; }
.audience-radio { width: 18px; height: 18px; margin: 0; accent-color: #1e4e8c; flex: none; }

/* log */
.log { display: flex; flex-direction: column; gap: 16px; margin: 0 0 16px; }
.log:empty { display: none; }
.empty-hint { font-size: 15px; color: #4b5563; background: #f6f8fa; border-radius: 8px; padding: 10px 12px; }
.loading-note { font-size: 15px; color: #4b5563; }
.turn { display: flex; flex-direction: column; gap: 10px; }
.user-message {
  align-self: flex-end; max-width: 88%;
  background: #e8f0fa; color: #102a43; border-radius: 14px 14px 4px 14px;
  padding: 8px 14px; white-space: pre-wrap;
}
.answer {
  position: relative;
  border: 1px solid #d9dee4; border-radius: 12px; background: #ffffff;
  padding: 14px 16px; display: flex; flex-direction: column; gap: 10px;
}
.answer-body { display: flex; flex-direction: column; gap: 10px; }
.answer-body ul, .answer-body ol { padding-left: 22px; display: flex; flex-direction: column; gap: 4px; }
.answer-body li > ul, .answer-body li > ol { margin-top: 4px; }
.answer-body code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.9em; background: #f1f3f5; border-radius: 4px; padding: 0 4px; }
.answer-body hr { border: 0; border-top: 1px solid #d9dee4; margin: 4px 0; }
.answer-body .md-quote { border-left: 3px solid #cfd6de; padding-left: 10px; color: #374151; }
.answer-body .md-heading { font-size: 16px; }
.answer-pending { display: inline-flex; align-items: center; gap: 8px; color: #4b5563; font-size: 15px; }
.dots { display: inline-flex; gap: 4px; }
.dots span { width: 6px; height: 6px; border-radius: 50%; background: #6b7785; animation: ivc-blink 1.2s infinite ease-in-out; }
.dots span:nth-child(2) { animation-delay: .2s; }
.dots span:nth-child(3) { animation-delay: .4s; }
@keyframes ivc-blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
.answer-streaming .answer-body > :last-child::after {
  content: ""; display: inline-block; width: 8px; height: 1em; margin-left: 2px; vertical-align: -2px;
  background: #6b7785; animation: ivc-caret 1s steps(2, start) infinite;
}
@keyframes ivc-caret { to { visibility: hidden; } }
@media (prefers-reduced-motion: reduce) {
  .dots span, .answer-streaming .answer-body > :last-child::after { animation: none; }
}

/* statuses */
.status-label {
  display: inline-flex; align-self: flex-start; align-items: center; gap: 6px;
  font-size: 13px; font-weight: 600; line-height: 1.3;
  padding: 3px 10px; border-radius: 999px;
}
.status-abstained { background: #f7f7f5; border-color: #d6d3cd; }
.status-abstained .status-label { background: #e9e7e2; color: #3f3b36; }
.status-abstained .answer-body { color: #3f3b36; }
.status-refused { background: #f4f6f9; border-color: #cdd5df; border-left: 4px solid #5b6b7f; }
.status-refused .status-label { background: #e3e8ef; color: #2f3b4a; }
.status-urgent { border: 2px solid #b00020; }
.urgent-banner {
  display: flex; gap: 10px; align-items: flex-start;
  margin: -14px -16px 2px; padding: 12px 16px;
  background: #b00020; color: #ffffff; border-radius: 10px 10px 0 0;
  font-size: 16px; line-height: 1.4;
}
.urgent-banner strong { display: block; font-size: 17px; font-weight: 800; }
.urgent-icon {
  flex: none; display: inline-flex; align-items: center; justify-content: center;
  width: 26px; height: 26px; border-radius: 50%; background: #ffffff; color: #b00020;
  font-weight: 900; font-size: 17px; line-height: 1;
}

/* citations */
.citation-chip {
  display: inline-flex; align-items: center; justify-content: center;
  min-width: 26px; height: 24px; padding: 0 7px; margin: 0 1px;
  vertical-align: 1px;
  border: 1px solid #8fb0d6; border-radius: 999px; background: #e8f0fa; color: #12345f;
  font-size: 12.5px; font-weight: 700; line-height: 1;
}
.citation-chip:hover { background: #d5e3f5; border-color: #1e4e8c; }
.citation-chip[aria-expanded="true"] { background: #1e4e8c; border-color: #1e4e8c; color: #ffffff; }
.citation-panel {
  border: 1px solid #b9cbe0; border-left: 4px solid #1e4e8c; border-radius: 8px;
  background: #f5f8fc; padding: 10px 12px; display: flex; flex-direction: column; gap: 8px;
  font-size: 15px;
}
.citation-panel-head { display: flex; align-items: flex-start; gap: 8px; justify-content: space-between; }
.citation-title { font-weight: 700; color: #102a43; }
.citation-number { color: #1e4e8c; margin-right: 4px; }
.citation-close {
  flex: none; width: 32px; height: 32px; display: inline-flex; align-items: center; justify-content: center;
  border: 1px solid transparent; border-radius: 6px; background: transparent; color: #374151; font-size: 20px; line-height: 1;
}
.citation-close:hover { background: #e3eaf3; }
.citation-quote {
  margin: 0; padding: 6px 0 6px 12px; border-left: 3px solid #9fb3c8;
  color: #1f2933; font-style: italic; white-space: pre-wrap;
}
.citation-meta { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 14px; color: #3e4c59; }
.citation-link { color: #1a4f9c; font-weight: 600; text-decoration: underline; text-underline-offset: 2px; align-self: flex-start; }
.citation-link:hover { color: #0f3470; }

/* disclaimer */
.disclaimer {
  font-size: 13px; line-height: 1.45; color: #4b5563;
  border-top: 1px solid #e3e7eb; padding-top: 8px;
}

/* feedback */
.feedback { display: flex; align-items: center; flex-wrap: wrap; gap: 6px; }
.feedback-label { font-size: 13px; color: #4b5563; margin-right: 2px; }
.feedback-btn {
  display: inline-flex; align-items: center; justify-content: center;
  width: 36px; height: 36px; border-radius: 8px;
  border: 1px solid #b6c0ca; background: #ffffff; color: #3e4c59;
}
.feedback-btn:hover:not(:disabled) { border-color: #1e4e8c; color: #1e4e8c; }
.feedback-btn[aria-pressed="true"] { background: #1e4e8c; border-color: #1e4e8c; color: #ffffff; }
.feedback-down .icon { transform: rotate(180deg); }
.feedback-thanks { font-size: 13px; color: #1f6f43; font-weight: 600; }
.feedback-error { font-size: 13px; color: #a1001c; }

/* suggestions */
.suggested { display: flex; flex-direction: column; gap: 6px; }
.suggested-title { font-size: 14px; font-weight: 600; color: #374151; }
.suggested-list { list-style: none; display: flex; flex-wrap: wrap; gap: 6px; }
.suggested-question {
  text-align: left; min-height: 36px; padding: 6px 12px;
  border: 1px solid #9fb3c8; border-radius: 18px; background: #ffffff; color: #1a4f9c;
  font-size: 14px; line-height: 1.35;
}
.suggested-question:hover:not(:disabled) { background: #eef4fb; border-color: #1e4e8c; }
.suggested-question:disabled { color: #5f6b7a; border-color: #d0d6dc; }

/* errors */
.error-message {
  display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px;
  border: 1px solid #e3a7ae; border-left: 4px solid #a1001c; border-radius: 10px;
  background: #fdf2f3; color: #5c0010; padding: 10px 14px; font-size: 15px;
}
.error-text { flex: 1 1 220px; }
.retry-button {
  min-height: 36px; padding: 6px 14px; border-radius: 8px;
  border: 1px solid #a1001c; background: #ffffff; color: #a1001c; font-weight: 700; font-size: 14px;
}
.retry-button:hover { background: #a1001c; color: #ffffff; }

/* form */
.ask-form { display: flex; flex-direction: column; gap: 6px; }
.input-label { font-size: 15px; font-weight: 600; color: #1f2933; }
.question-input {
  display: block; width: 100%; min-height: 84px; max-height: 320px; resize: vertical;
  padding: 10px 12px; border: 1px solid #7b8794; border-radius: 10px; background: #ffffff; color: #1f2933;
  font-size: 16px; line-height: 1.45;
}
.question-input::placeholder { color: #66717d; opacity: 1; }
.question-input:focus { border-color: #1a56db; }
.form-row { display: flex; align-items: center; justify-content: space-between; gap: 10px; flex-wrap: wrap; }
.form-hint { font-size: 13px; color: #4b5563; }
.char-counter { font-size: 13px; color: #4b5563; font-variant-numeric: tabular-nums; }
.char-counter.at-limit { color: #a1001c; font-weight: 700; }
.form-meta { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.send-button {
  margin-left: auto; min-height: 42px; padding: 8px 22px; border-radius: 10px;
  border: 1px solid #1e4e8c; background: #1e4e8c; color: #ffffff; font-weight: 700; font-size: 16px;
}
.send-button:hover:not(:disabled) { background: #153a6b; }
.send-button:disabled { background: #8a96a3; border-color: #8a96a3; color: #ffffff; }

@media (max-width: 480px) {
  .ivc { padding: 14px; border-radius: 10px; }
  .ivc-title { font-size: 19px; }
  .user-message { max-width: 94%; }
  .answer { padding: 12px; }
  .urgent-banner { margin: -12px -12px 2px; padding: 12px; }
  .form-hint { display: none; }
}
@media (forced-colors: active) {
  .citation-chip, .feedback-btn, .send-button, .suggested-question, .audience-option { border: 1px solid ButtonText; }
  .urgent-banner { border: 2px solid CanvasText; }
}
`;

  // ---------------------------------------------------------------- widget

  let uid = 0;
  const mounted = new WeakMap();

  class ChatWidget {
    constructor(container, options) {
      this.container = container;
      this.apiBase = String(options.apiBase || window.location.origin).replace(/\/+$/, '');
      this.articleId = String(options.articleId || DEFAULT_ARTICLE);
      this.id = ++uid;
      this.turns = [];
      this.busy = false;
      this.restoring = false;
      this.controller = null;
      this.conversationId = store.get('conversation:' + this.articleId) || null;
      const aud = store.get('audience');
      this.audience = AUDIENCES.some((a) => a.value === aud) ? aud : DEFAULT_AUDIENCE;
      this.feedback = this.loadFeedback();
      this.build();
      this.restore();
    }

    // ---------- DOM skeleton

    build() {
      const host = document.createElement('ivig-chat-widget');
      host.setAttribute('data-article-id', this.articleId);
      host.style.setProperty('display', 'block', 'important');
      this.host = host;
      this.container.appendChild(host);
      const root = host.attachShadow({ mode: 'open' });
      this.shadow = root;
      root.appendChild(h('style', { text: CSS }));

      const titleId = 'ivc-title-' + this.id;
      const inputId = 'ivc-input-' + this.id;
      const hintId = 'ivc-hint-' + this.id;
      const counterId = 'ivc-counter-' + this.id;
      const legendId = 'ivc-legend-' + this.id;

      this.newButton = h('button', { type: 'button', class: 'btn-secondary new-conversation' }, 'New conversation');
      this.newButton.addEventListener('click', () => this.newConversation());

      // audience
      this.radios = [];
      const options = h('div', { class: 'audience-options' });
      for (const a of AUDIENCES) {
        const input = h('input', {
          type: 'radio',
          class: 'audience-radio',
          name: 'audience-' + this.id,
          value: a.value,
        });
        input.checked = a.value === this.audience;
        input.addEventListener('change', () => {
          if (input.checked) this.setAudience(a.value);
        });
        this.radios.push(input);
        options.appendChild(h('label', { class: 'audience-option', 'data-audience': a.value }, input, h('span', { text: a.label })));
      }
      const fieldset = h(
        'fieldset',
        { class: 'audience', role: 'radiogroup', 'aria-labelledby': legendId },
        h('legend', { class: 'audience-legend', id: legendId, text: 'Which best describes you?' }),
        options
      );

      this.log = h('div', {
        class: 'log',
        role: 'log',
        'aria-live': 'polite',
        'aria-relevant': 'additions text',
        'aria-label': 'Conversation',
      });
      this.emptyHint = h('p', {
        class: 'empty-hint',
        text: 'Ask about anything in this article. Answers come only from the article and its cited sources, with citations you can open.',
      });
      this.log.appendChild(this.emptyHint);

      // form
      this.input = h('textarea', {
        id: inputId,
        class: 'question-input',
        name: 'message',
        rows: '3',
        maxlength: String(MAX_LEN),
        placeholder: 'Have a follow-up question?',
        'aria-describedby': hintId + ' ' + counterId,
        autocomplete: 'off',
        enterkeyhint: 'send',
      });
      this.counter = h('span', { class: 'char-counter', id: counterId, hidden: true });
      this.sendButton = h('button', { type: 'submit', class: 'send-button' }, 'Send');
      this.form = h(
        'form',
        { class: 'ask-form', 'aria-labelledby': titleId, novalidate: true },
        h('label', { class: 'input-label', for: inputId, text: 'Your question' }),
        this.input,
        h(
          'div',
          { class: 'form-row' },
          h(
            'div',
            { class: 'form-meta' },
            h('span', { class: 'form-hint', id: hintId, text: 'Press Enter to send, Shift+Enter for a new line.' }),
            this.counter
          ),
          this.sendButton
        )
      );
      this.form.addEventListener('submit', (e) => {
        e.preventDefault();
        this.submitFromInput();
      });
      this.input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229 && !e.altKey && !e.ctrlKey && !e.metaKey) {
          e.preventDefault();
          this.submitFromInput();
        }
      });
      this.input.addEventListener('input', () => this.updateCounter());

      this.root = h(
        'section',
        { class: 'ivc', 'aria-labelledby': titleId, 'data-ivig-chat-version': VERSION },
        h(
          'div',
          { class: 'ivc-header' },
          h('h2', { class: 'ivc-title', id: titleId, text: 'Have a follow-up question?' }),
          this.newButton
        ),
        fieldset,
        this.log,
        this.form
      );
      root.appendChild(this.root);
      this.updateControls();
    }

    // ---------- state helpers

    setAudience(value) {
      this.audience = value;
      store.set('audience', value);
      for (const r of this.radios) r.checked = r.value === value;
    }

    setConversationId(id) {
      this.conversationId = id || null;
      if (id) store.set('conversation:' + this.articleId, id);
      else store.remove('conversation:' + this.articleId);
      this.updateControls();
    }

    loadFeedback() {
      try {
        const v = JSON.parse(store.get('feedback:' + this.articleId) || '{}');
        return v && typeof v === 'object' ? v : {};
      } catch {
        return {};
      }
    }

    saveFeedback(turnId, rating) {
      this.feedback[turnId] = rating;
      const keys = Object.keys(this.feedback);
      if (keys.length > 200) for (const k of keys.slice(0, keys.length - 200)) delete this.feedback[k];
      store.set('feedback:' + this.articleId, JSON.stringify(this.feedback));
    }

    cachedDisclaimer(audience) {
      return store.get('disclaimer:' + this.articleId + ':' + audience) || '';
    }

    rememberDisclaimer(audience, text) {
      if (text) store.set('disclaimer:' + this.articleId + ':' + audience, text);
    }

    updateCounter() {
      const len = this.input.value.length;
      if (len >= COUNTER_FROM) {
        this.counter.hidden = false;
        this.counter.textContent = `${len} / ${MAX_LEN} characters`;
        this.counter.classList.toggle('at-limit', len >= MAX_LEN);
      } else {
        this.counter.hidden = true;
        this.counter.textContent = '';
        this.counter.classList.remove('at-limit');
      }
    }

    updateControls() {
      const blocked = this.busy || this.restoring;
      this.sendButton.disabled = blocked;
      this.form.setAttribute('aria-busy', blocked ? 'true' : 'false');
      this.log.setAttribute('aria-busy', this.restoring ? 'true' : 'false');
      for (const b of this.shadow.querySelectorAll('.suggested-question')) b.disabled = blocked;
      for (const b of this.shadow.querySelectorAll('.retry-button')) b.disabled = blocked;
      this.newButton.hidden = !this.conversationId && this.turns.length === 0;
    }

    // ---------- asking

    submitFromInput() {
      const text = this.input.value;
      if (this.ask(text)) {
        this.input.value = '';
        this.updateCounter();
      }
      this.input.focus({ preventScroll: true });
    }

    /** Ask a question; returns false when it was not sent (empty or busy). */
    ask(question) {
      const text = asText(question).trim().slice(0, MAX_LEN);
      if (!text || this.busy || this.restoring) return false;
      const turn = this.addTurn(text);
      this.send(turn);
      try {
        turn.el.scrollIntoView({ block: 'nearest' });
      } catch {
        /* old browsers */
      }
      return true;
    }

    addTurn(question) {
      if (this.emptyHint.parentNode) this.emptyHint.remove();
      for (const t of this.turns) this.clearSuggestions(t); // suggestions only under the latest answer
      const turn = {
        question,
        data: null,
        el: h('div', { class: 'turn' }),
        answerEl: null,
        parts: null,
        activeN: null,
        panelId: 'ivc-cite-' + this.id + '-' + ++uid,
        errorEl: null,
      };
      turn.el.appendChild(
        h('div', { class: 'message user-message' }, h('span', { class: 'sr-only', text: 'You asked: ' }), question)
      );
      this.turns.push(turn);
      this.log.appendChild(turn.el);
      this.updateControls();
      return turn;
    }

    async send(turn, isRetry) {
      this.busy = true;
      this.updateControls();
      if (turn.errorEl) {
        turn.errorEl.remove();
        turn.errorEl = null;
      }
      const audience = this.audience;
      const stream = { text: '', citations: [], turnId: null, disclaimer: this.cachedDisclaimer(audience) };
      turn.data = null;
      turn.activeN = null;
      this.renderAnswer(turn, { streaming: true, stream });
      const controller = new AbortController();
      this.controller = controller;
      const body = {
        message: turn.question,
        conversation_id: this.conversationId,
        article_id: this.articleId,
        audience,
      };
      let frame = 0;
      const schedule = () => {
        if (frame) return;
        frame = requestAnimationFrame(() => {
          frame = 0;
          if (!turn.data && this.controller === controller) this.renderAnswer(turn, { streaming: true, stream });
        });
      };
      try {
        const done = await streamChat(
          this.apiBase,
          body,
          (name, payload) => {
            if (this.controller !== controller || !payload) return;
            if (name === 'meta') {
              if (payload.conversation_id) this.setConversationId(String(payload.conversation_id));
              if (payload.turn_id) stream.turnId = payload.turn_id;
            } else if (name === 'delta') {
              stream.text += asText(payload.text);
              schedule();
            } else if (name === 'citations') {
              if (Array.isArray(payload.citations)) stream.citations = payload.citations;
              schedule();
            }
          },
          controller.signal
        );
        if (this.controller !== controller) return;
        if (frame) cancelAnimationFrame(frame);
        frame = 0;
        if (done && done.conversation_id) this.setConversationId(String(done.conversation_id));
        turn.data = {
          turn_id: (done && done.turn_id) || stream.turnId,
          status: (done && done.status) || 'answered',
          answer: done && typeof done.answer === 'string' ? done.answer : stream.text,
          citations: done && Array.isArray(done.citations) ? done.citations : stream.citations,
          disclaimer: (done && done.disclaimer) || '',
          suggested_questions: (done && done.suggested_questions) || [],
          article: done && done.article,
        };
        this.rememberDisclaimer(audience, turn.data.disclaimer);
        this.renderAnswer(turn, { streaming: false });
      } catch (err) {
        if (frame) cancelAnimationFrame(frame);
        frame = 0;
        if (isAbort(err) || this.controller !== controller) return;
        if (
          !isRetry &&
          err instanceof ChatError &&
          err.status === 404 &&
          body.conversation_id &&
          /conversation/i.test(err.code + ' ' + err.message)
        ) {
          // the stored conversation is gone on the server: start a new one and ask again
          this.setConversationId(null);
          this.controller = null;
          this.busy = false;
          this.send(turn, true);
          return;
        }
        this.showError(turn, err);
      } finally {
        if (this.controller === controller) {
          this.controller = null;
          this.busy = false;
          this.updateControls();
        }
      }
    }

    showError(turn, err) {
      if (turn.answerEl) {
        turn.answerEl.remove();
        turn.answerEl = null;
        turn.parts = null;
      }
      const message =
        err instanceof ChatError && err.message
          ? err.message
          : 'Something went wrong while answering. Please try again.';
      const retry = h('button', { type: 'button', class: 'retry-button' }, 'Retry');
      const box = h(
        'div',
        { class: 'error-message', role: 'alert', 'data-error-code': err && err.code ? String(err.code) : 'unknown' },
        h('p', { class: 'error-text' }, h('strong', { text: "Sorry, we couldn't get an answer. " }), message),
        retry
      );
      retry.addEventListener('click', () => {
        if (this.busy || this.restoring) return;
        this.send(turn);
        this.input.focus({ preventScroll: true });
      });
      turn.errorEl = box;
      turn.el.appendChild(box);
    }

    newConversation() {
      if (this.controller) this.controller.abort();
      this.controller = null;
      this.busy = false;
      this.setConversationId(null);
      this.turns = [];
      this.log.replaceChildren(this.emptyHint);
      this.input.value = '';
      this.updateCounter();
      this.updateControls();
      this.input.focus();
    }

    // ---------- restoring

    async restore() {
      const id = this.conversationId;
      if (!id) return;
      this.restoring = true;
      const note = h('p', { class: 'loading-note', text: 'Loading your previous conversation…' });
      this.log.appendChild(note);
      this.updateControls();
      try {
        const res = await fetch(this.apiBase + '/v1/conversations/' + encodeURIComponent(id), {
          headers: { Accept: 'application/json' },
        });
        if (res.status === 404) {
          if (this.conversationId === id) this.setConversationId(null);
        } else if (res.ok) {
          const conv = await res.json();
          const turns = (conv && Array.isArray(conv.turns) && conv.turns) || [];
          if (this.conversationId === id) {
            if (!store.get('audience') && AUDIENCES.some((a) => a.value === conv.audience)) {
              this.setAudience(conv.audience);
            }
            turns.forEach((t) => {
              const turn = this.addTurn(asText(t.question || t.standalone_question));
              turn.data = {
                turn_id: t.turn_id,
                status: t.status || 'answered',
                answer: asText(t.answer),
                citations: Array.isArray(t.citations) ? t.citations : [],
                disclaimer: asText(t.disclaimer),
                suggested_questions: Array.isArray(t.suggested_questions) ? t.suggested_questions : [],
              };
              if (t.audience && t.disclaimer) this.rememberDisclaimer(t.audience, t.disclaimer);
              this.renderAnswer(turn, { streaming: false });
            });
          }
        }
      } catch {
        /* server unreachable: keep the id, the next question continues the conversation */
      } finally {
        note.remove();
        this.restoring = false;
        if (!this.turns.length && !this.emptyHint.parentNode) this.log.appendChild(this.emptyHint);
        this.updateControls();
      }
    }

    // ---------- rendering an answer

    renderAnswer(turn, { streaming, stream }) {
      if (!turn.answerEl) {
        const parts = {
          srLabel: h('span', { class: 'sr-only', text: 'Answer: ' }),
          banner: null,
          statusLabel: h('p', { class: 'status-label', hidden: true }),
          body: h('div', { class: 'answer-body' }),
          panel: h('div', {
            class: 'citation-panel',
            id: turn.panelId,
            role: 'region',
            'aria-label': 'Citation',
            hidden: true,
          }),
          disclaimer: h('p', { class: 'disclaimer', hidden: true }),
          feedback: null,
          suggested: null,
        };
        turn.parts = parts;
        turn.answerEl = h(
          'article',
          { class: 'answer', 'aria-label': 'Answer' },
          parts.srLabel,
          parts.statusLabel,
          parts.body,
          parts.panel,
          parts.disclaimer
        );
        turn.el.appendChild(turn.answerEl);
      }
      const el = turn.answerEl;
      const parts = turn.parts;

      let text;
      let citations;
      let disclaimer;
      let status = null;
      if (streaming) {
        disclaimer = stream.disclaimer;
        text = hideStreamingDisclaimer(stream.text, disclaimer);
        citations = stream.citations;
      } else {
        const d = turn.data;
        status = asText(d.status).toLowerCase().replace(/[^a-z_-]/g, '') || 'answered';
        disclaimer = asText(d.disclaimer);
        text = stripTrailingDisclaimer(d.answer, disclaimer);
        citations = d.citations || [];
        if (d.turn_id) el.setAttribute('data-turn-id', String(d.turn_id));
      }
      el.className = 'answer ' + (streaming ? 'answer-streaming' : 'status-' + status);
      el.setAttribute('aria-busy', streaming ? 'true' : 'false');
      if (status) el.setAttribute('data-status', status);
      else el.removeAttribute('data-status');

      // urgent banner, created once so the alert is announced once
      if (status === 'urgent' && !parts.banner) {
        parts.banner = h(
          'div',
          { class: 'urgent-banner', role: 'alert' },
          h('span', { class: 'urgent-icon', 'aria-hidden': 'true', text: '!' }),
          h('div', {}, h('strong', { text: URGENT_TITLE }), h('span', { text: URGENT_TEXT }))
        );
        el.insertBefore(parts.banner, el.firstChild);
      } else if (status !== 'urgent' && parts.banner) {
        parts.banner.remove();
        parts.banner = null;
      }

      // status label
      const label = status && STATUS_LABELS[status];
      parts.statusLabel.hidden = !label;
      parts.statusLabel.textContent = label || '';

      // body
      const byN = new Map();
      for (const c of citations || []) {
        const n = parseInt(c && c.n, 10);
        if (Number.isFinite(n) && !byN.has(n)) byN.set(n, c);
      }
      turn.byN = byN;
      const focused = this.shadow.activeElement;
      let refocusIndex = -1;
      if (focused && focused.classList.contains('citation-chip') && parts.body.contains(focused)) {
        refocusIndex = Array.prototype.indexOf.call(parts.body.querySelectorAll('.citation-chip'), focused);
      }
      if (streaming && !text.trim()) {
        parts.body.replaceChildren(
          h(
            'p',
            { class: 'answer-pending' },
            h('span', { class: 'dots', 'aria-hidden': 'true' }, h('span'), h('span'), h('span')),
            'Searching the article and its sources…'
          )
        );
      } else {
        parts.body.replaceChildren(renderMarkdown(text, byN, (n, c) => this.makeChip(turn, n, c)));
      }
      if (refocusIndex >= 0) {
        const chip = parts.body.querySelectorAll('.citation-chip')[refocusIndex];
        if (chip) chip.focus({ preventScroll: true });
      }
      if (turn.activeN !== null && !byN.has(turn.activeN)) turn.activeN = null;
      this.renderPanel(turn);

      // disclaimer
      parts.disclaimer.textContent = disclaimer || '';
      parts.disclaimer.hidden = !disclaimer;

      // feedback and suggestions only once the answer is complete
      if (!streaming) {
        const turnId = turn.data.turn_id;
        if (turnId && !parts.feedback) {
          parts.feedback = this.buildFeedback(turn, String(turnId));
          el.appendChild(parts.feedback);
        }
        if (parts.suggested) {
          parts.suggested.remove();
          parts.suggested = null;
        }
        const isLatest = this.turns[this.turns.length - 1] === turn;
        const qs = (turn.data.suggested_questions || []).map(asText).filter((q) => q.trim());
        if (isLatest && qs.length) {
          parts.suggested = this.buildSuggestions(qs);
          el.appendChild(parts.suggested);
        }
      }
    }

    makeChip(turn, n, citation) {
      const title = asText(citation && citation.title);
      const chip = h('button', {
        type: 'button',
        class: 'citation-chip',
        'data-n': String(n),
        'aria-expanded': turn.activeN === n ? 'true' : 'false',
        'aria-controls': turn.panelId,
        'aria-label': `Citation ${n}${title ? ': ' + title : ''}`,
        title: title || `Citation ${n}`,
        text: String(n),
      });
      chip.addEventListener('click', () => {
        turn.activeN = turn.activeN === n ? null : n;
        turn.lastChip = chip;
        this.renderPanel(turn);
      });
      return chip;
    }

    renderPanel(turn) {
      const parts = turn.parts;
      const panel = parts.panel;
      for (const chip of turn.answerEl.querySelectorAll('.citation-chip')) {
        chip.setAttribute('aria-expanded', String(Number(chip.dataset.n) === turn.activeN));
      }
      const c = turn.activeN !== null && turn.byN ? turn.byN.get(turn.activeN) : null;
      if (!c) {
        panel.hidden = true;
        panel.replaceChildren();
        panel.removeAttribute('data-n');
        return;
      }
      const n = turn.activeN;
      if (panel.getAttribute('data-n') === String(n) && !panel.hidden) return;
      const close = h('button', { type: 'button', class: 'citation-close', 'aria-label': 'Close citation' }, '×');
      close.addEventListener('click', () => {
        turn.activeN = null;
        this.renderPanel(turn);
        const chip =
          (turn.lastChip && turn.lastChip.isConnected && turn.lastChip) ||
          turn.answerEl.querySelector(`.citation-chip[data-n="${n}"]`);
        if (chip) chip.focus();
      });
      const meta = h('p', { class: 'citation-meta' });
      if (c.ref !== null && c.ref !== undefined && c.ref !== '') {
        meta.appendChild(h('span', { class: 'citation-ref', text: `Reference ${c.ref} of the article` }));
      }
      if (c.section) meta.appendChild(h('span', { class: 'citation-section', text: `Section: ${c.section}` }));
      const url = safeHttpUrl(c.url);
      const link = url
        ? h(
            'a',
            { class: 'citation-link', href: url, target: '_blank', rel: 'noopener noreferrer' },
            'View source',
            h('span', { class: 'sr-only', text: ' (opens in a new tab)' })
          )
        : null;
      const title = asText(c.title) || asText(c.doc_id) || `Source ${n}`;
      // replaceChildren() would insert a null as the text "null": drop the missing parts first
      panel.replaceChildren(
        ...[
          h(
            'div',
            { class: 'citation-panel-head' },
            h('p', { class: 'citation-title' }, h('span', { class: 'citation-number', text: `[${n}]` }), title),
            close
          ),
          c.quote ? h('blockquote', { class: 'citation-quote', text: asText(c.quote) }) : null,
          meta.childNodes.length ? meta : null,
          link,
        ].filter(Boolean)
      );
      panel.setAttribute('data-n', String(n));
      panel.setAttribute('aria-label', `Citation ${n}: ${title}`);
      panel.hidden = false;
      panel.onkeydown = (e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          close.click();
        }
      };
    }

    buildFeedback(turn, turnId) {
      const up = h('button', {
        type: 'button',
        class: 'feedback-btn feedback-up',
        'aria-label': 'Helpful',
        'aria-pressed': 'false',
        title: 'Helpful',
        'data-rating': 'up',
      });
      up.appendChild(svgIcon(THUMB_PATHS));
      const down = h('button', {
        type: 'button',
        class: 'feedback-btn feedback-down',
        'aria-label': 'Not helpful',
        'aria-pressed': 'false',
        title: 'Not helpful',
        'data-rating': 'down',
      });
      down.appendChild(svgIcon(THUMB_PATHS));
      const status = h('span', { class: 'feedback-status', role: 'status' });
      const wrap = h(
        'div',
        { class: 'feedback', role: 'group', 'aria-label': 'Was this answer helpful?' },
        h('span', { class: 'feedback-label', 'aria-hidden': 'true', text: 'Helpful?' }),
        up,
        down,
        status
      );
      const setPressed = (rating) => {
        up.setAttribute('aria-pressed', String(rating === 'up'));
        down.setAttribute('aria-pressed', String(rating === 'down'));
      };
      const previous = this.feedback[turnId];
      if (previous === 'up' || previous === 'down') {
        setPressed(previous);
        status.replaceChildren(h('span', { class: 'feedback-thanks', text: 'Thanks for your feedback' }));
      }
      const sendRating = async (rating) => {
        up.disabled = true;
        down.disabled = true;
        try {
          const res = await fetch(this.apiBase + '/v1/feedback', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
            body: JSON.stringify({ turn_id: turnId, rating, comment: null }),
          });
          if (!res.ok) throw await errorFromResponse(res);
          setPressed(rating);
          this.saveFeedback(turnId, rating);
          status.replaceChildren(h('span', { class: 'feedback-thanks', text: 'Thanks for your feedback' }));
        } catch (e) {
          status.replaceChildren(
            h('span', {
              class: 'feedback-error',
              text:
                e instanceof ChatError && e.code !== 'network' && e.message
                  ? `Feedback not sent: ${e.message}`
                  : 'Feedback could not be sent. Please try again.',
            })
          );
        } finally {
          up.disabled = false;
          down.disabled = false;
        }
      };
      up.addEventListener('click', () => sendRating('up'));
      down.addEventListener('click', () => sendRating('down'));
      return wrap;
    }

    buildSuggestions(questions) {
      const titleId = 'ivc-sugg-' + this.id + '-' + ++uid;
      const list = h('ul', { class: 'suggested-list', 'aria-labelledby': titleId });
      for (const q of questions.slice(0, 6)) {
        const b = h('button', { type: 'button', class: 'suggested-question', text: q });
        b.disabled = this.busy || this.restoring;
        b.addEventListener('click', () => {
          if (this.ask(q)) this.input.focus({ preventScroll: true });
        });
        list.appendChild(h('li', {}, b));
      }
      return h(
        'div',
        { class: 'suggested' },
        h('p', { class: 'suggested-title', id: titleId, text: 'Suggested follow-up questions' }),
        list
      );
    }

    clearSuggestions(turn) {
      if (turn.parts && turn.parts.suggested) {
        turn.parts.suggested.remove();
        turn.parts.suggested = null;
      }
    }

    destroy() {
      if (this.controller) this.controller.abort();
      this.controller = null;
      this.host.remove();
      mounted.delete(this.container);
    }
  }

  // ---------------------------------------------------------------- public API and auto-mount

  function mount(element, options) {
    let el = element;
    if (typeof el === 'string') el = document.querySelector(el);
    if (!el || el.nodeType !== 1) throw new TypeError('IvigChat.mount: a DOM element is required');
    const existing = mounted.get(el);
    if (existing) return existing.api;
    const widget = new ChatWidget(el, options || {});
    const api = {
      element: widget.host,
      shadowRoot: widget.shadow,
      ask: (q) => widget.ask(q),
      newConversation: () => widget.newConversation(),
      destroy: () => widget.destroy(),
    };
    widget.api = api;
    mounted.set(el, widget);
    return api;
  }

  const IvigChat =
    window.IvigChat && window.IvigChat.__ivigChat ? window.IvigChat : { mount, version: VERSION, __ivigChat: true };
  window.IvigChat = IvigChat;

  function findOwnScript() {
    const cur = document.currentScript;
    if (cur && cur.src) return cur;
    const all = document.querySelectorAll('script[src*="ivig-chat"]');
    for (let i = all.length - 1; i >= 0; i--) {
      if (!all[i].hasAttribute('data-ivig-chat-mounted')) return all[i];
    }
    return null;
  }

  function autoMount(script) {
    if (!script || script.hasAttribute('data-ivig-chat-mounted')) return;
    if (script.getAttribute('data-auto-mount') === 'false') return;
    script.setAttribute('data-ivig-chat-mounted', '');
    let origin = window.location.origin;
    try {
      origin = new URL(script.src, window.location.href).origin;
    } catch {
      /* keep page origin */
    }
    const options = {
      apiBase: script.getAttribute('data-api-base') || origin,
      articleId: script.getAttribute('data-article-id') || DEFAULT_ARTICLE,
    };
    const targetSel = script.getAttribute('data-target');

    const place = (final) => {
      if (targetSel) {
        let target = null;
        try {
          target = document.querySelector(targetSel);
        } catch {
          target = null;
        }
        if (target) return IvigChat.mount(target, options);
        if (!final) return null;
        if (window.console) console.warn('[ivig-chat] data-target not found:', targetSel);
      }
      const holder = document.createElement('div');
      holder.className = 'ivig-chat-container';
      const parent = script.parentNode;
      if (parent && parent !== document.head && parent.nodeName !== 'HEAD' && parent !== document.documentElement) {
        parent.insertBefore(holder, script.nextSibling);
      } else if (document.body) {
        document.body.appendChild(holder);
      } else {
        return null;
      }
      return IvigChat.mount(holder, options);
    };

    if (place(false)) return;
    const later = () => place(true);
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', later, { once: true });
    else later();
  }

  autoMount(findOwnScript());
})();
