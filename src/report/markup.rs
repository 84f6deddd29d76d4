//! What every page entra-sim writes shares: the stylesheet, the `<head>` with its
//! Content-Security-Policy, the text escaping and a small markup builder. The job report
//! (`report`) and `conformance --html` are built on it, so both pages look alike and escape
//! alike. [`escape`] also serves the JUnit XML of `conformance --junit`: its references are valid
//! XML, and it replaces the characters XML 1.0 cannot carry.

use std::fmt;

/// The pages' stylesheet.
const CSS: &str = include_str!("page.css");

/// `text` with `& < > " '` replaced by character references, safe in element content and in
/// quoted attribute values of HTML and XML alike; the characters XML 1.0 forbids (C0 controls but
/// tab, line feed and carriage return; U+FFFE, U+FFFF) become U+FFFD, so a hostile server's
/// answer cannot make a document ill-formed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// JSON safe inside `<script type="application/json">`: `<`, `>` and `&` are `\u` escapes, so no
/// value can close the element; U+2028/U+2029 too, for older script parsers.
pub fn json_for_script(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A page being written: [`Html::text`] escapes, [`Html::raw`] does not (only for markup written
/// in this crate); `write!` appends raw markup too.
pub struct Html(String);

impl Html {
    /// A page that starts with the doctype and `<head>` — `title`, the shared stylesheet and then
    /// `extra_css`, a Content-Security-Policy that forbids every fetch and lets run only a script
    /// carrying `script_nonce` (none without one) — and opens `<body>`.
    pub fn page(capacity: usize, title: &str, script_nonce: Option<&str>, extra_css: &str) -> Html {
        let mut h = Html(String::with_capacity(capacity));
        h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'");
        if let Some(nonce) = script_nonce {
            h.raw("; script-src 'nonce-").text(nonce).raw("'");
        }
        h.raw("\"><title>")
            .text(title)
            .raw("</title><style>")
            .raw(CSS)
            .raw(extra_css)
            .raw("</style></head><body>\n");
        h
    }

    /// The markup written so far.
    pub fn finish(self) -> String {
        self.0
    }

    /// Appends `markup` as it is.
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    /// Appends `text`, escaped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        push_escaped(&mut self.0, text);
        self
    }

    /// Appends a number.
    pub fn num(&mut self, n: usize) -> &mut Self {
        self.raw(&n.to_string())
    }

    /// `<tag class="class">text</tag>`.
    pub fn el(&mut self, tag: &str, class: &str, text: &str) -> &mut Self {
        self.raw("<")
            .raw(tag)
            .raw(" class=\"")
            .raw(class)
            .raw("\">")
            .text(text)
            .raw("</")
            .raw(tag)
            .raw(">")
    }

    /// A count cell, muted when zero.
    pub fn count_cell(&mut self, n: usize) -> &mut Self {
        if n == 0 {
            self.raw("<td class=\"n zero\">0</td>")
        } else {
            self.raw("<td class=\"n\">").num(n).raw("</td>")
        }
    }

    /// A coloured badge: `class` one of `success`, `warning`, `failure`, `skipped` (grey
    /// otherwise), showing `label`.
    pub fn badge(&mut self, class: &str, label: &str) -> &mut Self {
        let class = match class {
            "success" | "warning" | "failure" | "skipped" => class,
            _ => "other",
        };
        self.el("span", &format!("badge {class}"), label)
    }
}

impl fmt::Write for Html {
    fn write_str(&mut self, markup: &str) -> fmt::Result {
        self.0.push_str(markup);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markup characters become references; what XML 1.0 forbids becomes U+FFFD; tab, line feed
    /// and carriage return stay.
    #[test]
    fn escapes_markup_and_forbidden_characters() {
        assert_eq!(
            escape("a<b>&\"c\"'\t\n\r"),
            "a&lt;b&gt;&amp;&quot;c&quot;&#39;\t\n\r"
        );
        assert_eq!(
            escape("\u{0}\u{1}\u{8}\u{b}\u{c}\u{e}\u{1f}x\u{fffe}\u{ffff}"),
            "\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}x\u{fffd}\u{fffd}"
        );
        assert_eq!(escape("é\u{7f}\u{10000}"), "é\u{7f}\u{10000}");
    }

    /// Without a nonce the policy allows no script at all.
    #[test]
    fn a_page_without_a_nonce_runs_no_script() {
        let page = Html::page(0, "t<", None, ".x{}").finish();
        assert!(page.contains("form-action 'none'\">"), "{page}");
        assert!(!page.contains("script-src"));
        assert!(page.contains("<title>t&lt;</title>"));
        assert!(page.contains(".x{}</style>"));
        let page = Html::page(0, "t", Some("n1"), "").finish();
        assert!(page.contains("; script-src 'nonce-n1'\">"));
    }
}
