//! Small text helpers: fixed-width cells, times for humans, search-hit highlighting.
//!
//! Stored data (payloads, log lines, error messages) reaches the screen through these
//! helpers, which first [`clean`] it: ratatui drops control characters itself, silently;
//! here they become visible escapes (`\x1b`), and bidirectional overrides can't reorder
//! what is shown. Rows are one line each, so newlines and tabs become spaces.

use bolt_shared::escape::escape_controls;
use chrono::{DateTime, Utc};
use ratatui::style::Style;
use ratatui::text::Span;
use std::borrow::Cow;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Most characters of one text a one-line widget looks at: rows are cut to the screen's
/// width anyway, and a 100 MB log line must not be walked on every frame.
pub const MAX_SHOWN_CHARS: usize = 4096;

/// Stored text made safe for one screen row: the first [`MAX_SHOWN_CHARS`] characters,
/// newlines and tabs as spaces, other control characters (and bidi overrides) as visible
/// escapes.
pub fn clean(text: &str) -> Cow<'_, str> {
    clean_up_to(text, MAX_SHOWN_CHARS)
}

/// [`clean`] with another limit (wrapped views show more of a value); text cut at the
/// limit ends with an ellipsis, like every other cut.
pub fn clean_up_to(text: &str, limit: usize) -> Cow<'_, str> {
    if let Some((end, _)) = text.char_indices().nth(limit) {
        return Cow::Owned(format!("{}…", clean_up_to(&text[..end], limit)));
    }
    let spaced: Cow<str> = if text.contains(['\n', '\t']) {
        Cow::Owned(text.replace(['\n', '\t'], " "))
    } else {
        Cow::Borrowed(text)
    };
    match spaced {
        Cow::Borrowed(text) => escape_controls(text),
        Cow::Owned(text) => Cow::Owned(escape_controls(&text).into_owned()),
    }
}

/// The last guard before the terminal: a cell whose symbol holds a control character or a
/// bidi override (stored text that reached a widget without [`clean`]) shows `?` instead.
pub fn guard_buffer(buffer: &mut ratatui::buffer::Buffer) {
    for cell in buffer.content.iter_mut() {
        if cell.symbol().chars().any(is_unsafe_on_screen) {
            cell.set_symbol("?");
        }
    }
}

fn is_unsafe_on_screen(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x202a..=0x202e | 0x2066..=0x2069)
}

/// Cuts `text` to `width` columns (with an ellipsis when cut) and pads it to exactly `width`.
pub fn fit(text: &str, width: usize, ascii: bool) -> String {
    let text = clean(text);
    if text.width() <= width {
        let pad = width - text.width();
        return format!("{text}{}", " ".repeat(pad));
    }
    let ellipsis = if ascii { "~" } else { "…" };
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push_str(ellipsis);
    used += 1;
    out.push_str(&" ".repeat(width.saturating_sub(used)));
    out
}

/// Times in lists: within the last hour how long ago ("just now", "12m ago": the screen is
/// redrawn every tick, so they don't go stale); else the time of day for today and the date
/// too for older ones, in the zone of the time rule (`bolt_shared::time`) the header names.
pub fn when(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    match (now - at).num_seconds() {
        0..=59 => "just now".to_string(),
        60..=3599 => bolt_shared::time::ago(at, now),
        _ => bolt_shared::time::rule().when_compact(at, now),
    }
}

/// "in 15h 12m" / "in 3m" for next fire times.
pub fn until(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    if secs <= 0 {
        return "due".to_string();
    }
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    match (h, m) {
        (0, 0) => format!("in {secs}s"),
        (0, m) => format!("in {m}m"),
        (h, m) if h < 48 => format!("in {h}h {m:02}m"),
        (h, _) => format!("in {}d", h / 24),
    }
}

/// Splits a daemon snippet where `[`…`]` marks the match into styled spans.
pub fn snippet_spans(snippet: &str, base: Style, hit: Style) -> Vec<Span<'static>> {
    let snippet = clean(snippet);
    let snippet = snippet.as_ref();
    let mut spans = Vec::new();
    let mut rest = snippet;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']') else {
            break;
        };
        if open > 0 {
            spans.push(Span::styled(rest[..open].to_string(), base));
        }
        spans.push(Span::styled(rest[open + 1..open + close].to_string(), hit));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        spans.push(Span::styled(rest.to_string(), base));
    }
    spans
}

/// Cuts the front of a search snippet so its `[`match`]` shows in a column `width` wide.
pub fn focus_snippet(snippet: &str, width: usize) -> String {
    let snippet = clean(snippet);
    let snippet = snippet.as_ref();
    let chars: Vec<char> = snippet.chars().collect();
    let Some(open) = chars.iter().position(|c| *c == '[') else {
        return snippet.to_string();
    };
    let lead = width / 3;
    if chars.len() <= width || open <= lead {
        return snippet.to_string();
    }
    let start = open - lead;
    format!("…{}", chars[start + 1..].iter().collect::<String>())
}

/// Splits `text` into spans with every case-insensitive occurrence of `needle` highlighted.
pub fn highlight(text: &str, needle: Option<&str>, base: Style, hit: Style) -> Vec<Span<'static>> {
    highlight_up_to(text, needle, base, hit, MAX_SHOWN_CHARS)
}

/// [`highlight`] of up to `limit` characters.
pub fn highlight_up_to(
    text: &str,
    needle: Option<&str>,
    base: Style,
    hit: Style,
    limit: usize,
) -> Vec<Span<'static>> {
    let text = clean_up_to(text, limit);
    let text = text.as_ref();
    let Some(needle) = needle.filter(|n| !n.is_empty()) else {
        return vec![Span::styled(text.to_string(), base)];
    };
    let lower = text.to_lowercase();
    let needle = needle.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; fall back to no highlight then.
    if lower.len() != text.len() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(&needle) {
        let start = at + found;
        let end = start + needle.len();
        if start > at {
            spans.push(Span::styled(text[at..start].to_string(), base));
        }
        spans.push(Span::styled(text[start..end].to_string(), hit));
        at = end;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), base));
    }
    spans
}

/// Total display width of a set of spans.
pub fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|s| s.content.width()).sum()
}

/// Truncates spans to `width` columns (keeping styles); a cut ends with an ellipsis.
pub fn clip_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    if spans_width(&spans) <= width {
        return spans;
    }
    // One column is kept for the ellipsis that says the text goes on.
    let room = width.saturating_sub(1);
    let mut out = Vec::new();
    let mut used = 0;
    let mut last_style = Style::default();
    for span in spans {
        let w = span.content.width();
        last_style = span.style;
        if used + w <= room {
            used += w;
            out.push(span);
            continue;
        }
        let mut text = String::new();
        for c in span.content.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > room {
                break;
            }
            used += cw;
            text.push(c);
        }
        out.push(Span::styled(text, span.style));
        break;
    }
    if width > 0 {
        out.push(Span::styled("…", last_style));
    }
    out
}

/// Splits spans into rows of at most `width` columns, keeping every character and style;
/// rows after the first start with `indent` spaces (so wrapped JSON stays under its key).
pub fn wrap_spans(
    spans: Vec<Span<'static>>,
    width: usize,
    indent: usize,
) -> Vec<Vec<Span<'static>>> {
    let width = width.max(1);
    let indent = if indent + 8 > width { 0 } else { indent };
    let mut rows = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in spans {
        let mut text = String::new();
        for c in span.content.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width && used > indent {
                if !text.is_empty() {
                    row.push(Span::styled(std::mem::take(&mut text), span.style));
                }
                rows.push(std::mem::take(&mut row));
                row.push(Span::raw(" ".repeat(indent)));
                used = indent;
            }
            text.push(c);
            used += cw;
        }
        if !text.is_empty() {
            row.push(Span::styled(text, span.style));
        }
    }
    rows.push(row);
    rows
}

/// "1,204"
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn list_times_are_ages_within_the_hour_then_clock_times() {
        let now = Utc::now();
        assert_eq!(when(now - chrono::Duration::seconds(20), now), "just now");
        assert_eq!(when(now - chrono::Duration::minutes(12), now), "12m ago");
        let older = when(now - chrono::Duration::hours(3), now);
        assert!(older.contains(':') && !older.contains("ago"), "{older}");
    }

    #[test]
    fn clipped_spans_end_with_an_ellipsis() {
        let spans = vec![Span::raw("abc"), Span::raw("defgh")];
        let clipped = clip_spans(spans.clone(), 5);
        let text: String = clipped.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "abcd…");
        assert_eq!(clip_spans(spans, 8).len(), 2, "what fits is left alone");
        assert!(clean(&"x".repeat(MAX_SHOWN_CHARS + 5)).ends_with('…'));
    }

    #[test]
    fn wrapping_keeps_every_character_and_indents_continuations() {
        let rows = wrap_spans(
            vec![Span::raw("  \"k\": "), Span::raw("0123456789abcdef")],
            12,
            2,
        );
        let texts: Vec<String> = rows
            .iter()
            .map(|r| r.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(texts, vec!["  \"k\": 01234", "  56789abcde", "  f"]);
    }

    #[test]
    fn fit_pads_and_cuts_to_the_column() {
        assert_eq!(fit("abc", 5, false), "abc  ");
        assert_eq!(fit("abcdefgh", 5, false), "abcd…");
        assert_eq!(fit("abcdefgh", 5, true), "abcd~");
        assert_eq!(fit("✔ ok", 6, false).width(), 6);
    }

    #[test]
    fn snippets_mark_the_match() {
        let spans = snippet_spans(
            "…patient [P-0042] missing",
            Style::default(),
            Style::default().bold(),
        );
        let texts: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(texts, vec!["…patient ", "P-0042", " missing"]);
    }

    #[test]
    fn long_snippets_are_cut_so_the_match_shows() {
        let snippet = format!("{}[P-0052]{}", "x".repeat(60), "y".repeat(10));
        let focused = focus_snippet(&snippet, 30);
        assert!(focused.starts_with('…'));
        let at = focused.chars().position(|c| c == '[').unwrap();
        assert_eq!(at, 10);
        assert_eq!(focus_snippet("short [hit]", 30), "short [hit]");
    }

    #[test]
    fn highlight_is_case_insensitive() {
        let spans = highlight(
            "Visit visit",
            Some("VISIT"),
            Style::default(),
            Style::default().bold(),
        );
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[2].content, "visit");
    }

    #[test]
    fn stored_text_reaches_the_screen_without_control_characters() {
        let hostile = "ok\u{1b}]0;pwned\u{7}\u{1b}[2K\rgone\u{202e}txt\nnext";
        assert_eq!(
            clean(hostile),
            "ok\\x1b]0;pwned\\x07\\x1b[2K\\rgone\\u{202e}txt next"
        );
        for text in [
            fit(hostile, 80, false),
            focus_snippet(hostile, 80),
            highlight(hostile, Some("gone"), Style::default(), Style::default())
                .iter()
                .map(|s| s.content.to_string())
                .collect(),
        ] {
            assert!(
                !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{text:?}"
            );
        }
        let huge = "x".repeat(10 * MAX_SHOWN_CHARS);
        assert_eq!(clean(&huge).chars().count(), MAX_SHOWN_CHARS + 1);
        assert!(clean(&huge).ends_with('…'));
    }

    #[test]
    fn counts_get_separators() {
        assert_eq!(thousands(1204), "1,204");
        assert_eq!(thousands(17), "17");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
