//! A JSON viewer: folding, search with highlighting, and the value under the cursor for
//! "write to file".

use crate::tui::theme::{Theme, Tone};
use crate::tui::widgets::text::{clip_spans, highlight, highlight_up_to, wrap_spans};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use serde_json::Value;
use std::cell::Cell;
use std::collections::HashSet;

/// Collections bigger than this start folded.
const FOLD_ABOVE: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub enum LineBody {
    Scalar(String, Tone),
    Open {
        open: char,
        summary: String,
        folded: bool,
    },
    Close(char),
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonLine {
    pub depth: usize,
    /// JSON pointer of the value this line shows.
    pub path: String,
    pub key: Option<String>,
    pub body: LineBody,
}

#[derive(Debug, Default)]
pub struct JsonView {
    pub value: Option<Value>,
    /// The text when it is not JSON (shown as is).
    pub raw: String,
    pub folded: HashSet<String>,
    pub cursor: usize,
    pub offset: usize,
    pub height: Cell<usize>,
    pub search: Option<String>,
    /// Long lines continue on the next rows instead of ending in an ellipsis.
    pub wrap: bool,
    match_index: usize,
}

/// How much of one value a wrapped line shows (the zoom view and the pager show it all).
pub const WRAP_MAX_CHARS: usize = 64 * 1024;

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl JsonView {
    pub fn new(text: &str) -> JsonView {
        let value = serde_json::from_str::<Value>(text).ok();
        let mut view = JsonView {
            raw: text.to_string(),
            ..JsonView::default()
        };
        if let Some(value) = &value {
            collect_big(value, "", &mut view.folded);
        }
        view.value = value;
        view
    }

    pub fn lines(&self) -> Vec<JsonLine> {
        self.lines_with(&self.folded)
    }

    fn lines_with(&self, folded: &HashSet<String>) -> Vec<JsonLine> {
        let mut out = Vec::new();
        match &self.value {
            Some(value) => walk(value, "", None, 0, folded, &mut out),
            None => {
                for (index, line) in self.raw.lines().enumerate() {
                    out.push(JsonLine {
                        depth: 0,
                        path: format!("#{index}"),
                        key: None,
                        body: LineBody::Scalar(line.to_string(), Tone::Accent),
                    });
                }
            }
        }
        out
    }

    pub fn move_by(&mut self, delta: isize) {
        let count = self.lines().len();
        let next = (self.cursor as isize + delta).clamp(0, count.saturating_sub(1) as isize);
        self.cursor = next as usize;
        self.keep_visible();
    }

    pub fn move_to(&mut self, index: usize) {
        self.cursor = index.min(self.lines().len().saturating_sub(1));
        self.keep_visible();
    }

    fn keep_visible(&mut self) {
        let height = self.height.get().max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + height {
            self.offset = self.cursor + 1 - height;
        }
    }

    /// Folds or unfolds the collection on the cursor line (or the one a closing line ends).
    pub fn toggle_fold(&mut self) {
        let lines = self.lines();
        let Some(line) = lines.get(self.cursor) else {
            return;
        };
        let path = line.path.clone();
        if !matches!(line.body, LineBody::Open { .. } | LineBody::Close(_)) {
            return;
        }
        if !self.folded.remove(&path) {
            self.folded.insert(path.clone());
            // Land on the folded line itself when folding from its closing bracket.
            if let Some(at) = self.lines().iter().position(|l| l.path == path) {
                self.cursor = at;
            }
        }
        self.keep_visible();
    }

    /// Sets the search and jumps to the first match; returns how many lines match.
    pub fn set_search(&mut self, term: Option<String>) -> usize {
        self.search = term.filter(|t| !t.is_empty());
        self.match_index = 0;
        let count = self.match_paths().len();
        if count > 0 {
            self.jump_to_match(0);
        }
        count
    }

    pub fn next_match(&mut self) -> usize {
        let count = self.match_paths().len();
        if count > 0 {
            self.match_index = (self.match_index + 1) % count;
            self.jump_to_match(self.match_index);
        }
        count
    }

    pub fn prev_match(&mut self) -> usize {
        let count = self.match_paths().len();
        if count > 0 {
            self.match_index = (self.match_index + count - 1) % count;
            self.jump_to_match(self.match_index);
        }
        count
    }

    /// Paths of matching lines over the whole document, folded parts included.
    fn match_paths(&self) -> Vec<String> {
        let Some(term) = self.search.as_deref().map(str::to_lowercase) else {
            return Vec::new();
        };
        self.lines_with(&HashSet::new())
            .into_iter()
            .filter(|line| {
                let key_hit = line.key.as_deref().is_some_and(|k| k.to_lowercase().contains(&term));
                let value_hit = matches!(&line.body, LineBody::Scalar(text, _) if text.to_lowercase().contains(&term));
                key_hit || value_hit
            })
            .map(|line| line.path)
            .collect()
    }

    fn jump_to_match(&mut self, index: usize) {
        let Some(path) = self.match_paths().get(index).cloned() else {
            return;
        };
        // Unfold every ancestor so the match is visible.
        let mut prefix = String::new();
        for part in path.split('/').skip(1) {
            self.folded.remove(&prefix);
            prefix.push('/');
            prefix.push_str(part);
        }
        self.folded.remove("");
        if let Some(at) = self.lines().iter().position(|l| l.path == path) {
            self.cursor = at;
            // A third of the view above the match, so its surroundings show too.
            let height = self.height.get().max(1);
            self.offset = at.saturating_sub(height / 3);
            self.keep_visible();
        }
    }

    /// The value under the cursor, pretty-printed (the whole document at the top).
    pub fn value_at_cursor(&self) -> String {
        let Some(value) = &self.value else {
            return self.raw.clone();
        };
        let path = self
            .lines()
            .get(self.cursor)
            .map(|l| l.path.clone())
            .unwrap_or_default();
        let picked = value.pointer(&path).unwrap_or(value);
        serde_json::to_string_pretty(picked).unwrap_or_default()
    }

    /// The value under the cursor for reading or copying whole: a string as the text it
    /// holds (real newlines, no JSON escapes), anything else pretty-printed.
    pub fn text_at_cursor(&self) -> String {
        let Some(value) = &self.value else {
            return self.raw.clone();
        };
        let path = self
            .lines()
            .get(self.cursor)
            .map(|l| l.path.clone())
            .unwrap_or_default();
        match value.pointer(&path).unwrap_or(value) {
            Value::String(text) => text.clone(),
            other => serde_json::to_string_pretty(other).unwrap_or_default(),
        }
    }

    /// The key (or index) of the line under the cursor, to name what is zoomed or copied.
    pub fn name_at_cursor(&self) -> String {
        self.lines()
            .get(self.cursor)
            .map(|l| {
                if l.path.is_empty() {
                    "the whole value".to_string()
                } else {
                    l.path.clone()
                }
            })
            .unwrap_or_default()
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        self.height.set(area.height as usize);
        let width = area.width as usize;
        let height = area.height as usize;
        let all = self.lines();
        let styled = |index: usize| self.line_spans(&all[index], index, theme, focused);
        if !self.wrap {
            let lines: Vec<Line> = (self.offset..all.len().min(self.offset + height))
                .map(|index| {
                    let (spans, base) = styled(index);
                    let mut spans = clip_spans(spans, width);
                    let used = crate::tui::widgets::text::spans_width(&spans);
                    if base != Style::default() {
                        spans.push(Span::styled(" ".repeat(width.saturating_sub(used)), base));
                    }
                    Line::from(spans)
                })
                .collect();
            frame.render_widget(Paragraph::new(lines), area);
            return;
        }
        let rows_of = |index: usize| {
            let (spans, base) = styled(index);
            let indent = all[index].depth * 2 + 2;
            wrap_spans(spans, width, indent)
                .into_iter()
                .map(|mut row| {
                    let used = crate::tui::widgets::text::spans_width(&row);
                    if base != Style::default() {
                        row.push(Span::styled(" ".repeat(width.saturating_sub(used)), base));
                    }
                    Line::from(row)
                })
                .collect::<Vec<_>>()
        };
        // Wrapped lines take several rows: start late enough that the cursor line shows.
        let cursor = self.cursor.min(all.len().saturating_sub(1));
        let mut start = self.offset.min(cursor);
        while start < cursor && (start..=cursor).map(|i| rows_of(i).len()).sum::<usize>() > height {
            start += 1;
        }
        let mut lines = Vec::new();
        for index in start..all.len() {
            if lines.len() >= height {
                break;
            }
            lines.extend(rows_of(index));
        }
        lines.truncate(height);
        frame.render_widget(Paragraph::new(lines), area);
    }

    /// One line's spans and its base style (selected or not).
    fn line_spans(
        &self,
        line: &JsonLine,
        index: usize,
        theme: &Theme,
        focused: bool,
    ) -> (Vec<Span<'static>>, Style) {
        let hit = theme.matched();
        let term = self.search.as_deref();
        let limit = if self.wrap {
            WRAP_MAX_CHARS
        } else {
            crate::tui::widgets::text::MAX_SHOWN_CHARS
        };
        let base = if focused && index == self.cursor {
            theme.selected()
        } else {
            Style::default()
        };
        let marker = match &line.body {
            LineBody::Open { folded: true, .. } => theme.fold_closed(),
            LineBody::Open { folded: false, .. } => theme.fold_open(),
            _ => " ",
        };
        let mut spans = vec![Span::styled(
            format!("{}{marker} ", "  ".repeat(line.depth)),
            base,
        )];
        if let Some(key) = &line.key {
            spans.extend(highlight(
                &format!("\"{key}\""),
                term,
                base.patch(theme.tone(Tone::Accent)),
                base.patch(hit),
            ));
            spans.push(Span::styled(": ", base));
        }
        match &line.body {
            LineBody::Scalar(text, tone) => spans.extend(highlight_up_to(
                text,
                term,
                base.patch(theme.tone(*tone)),
                base.patch(hit),
                limit,
            )),
            LineBody::Open {
                open,
                summary,
                folded: true,
            } => spans.push(Span::styled(
                format!("{open} {summary} {}", if *open == '{' { '}' } else { ']' }),
                base.patch(theme.tone(Tone::Muted)),
            )),
            LineBody::Open { open, .. } => spans.push(Span::styled(open.to_string(), base)),
            LineBody::Close(close) => spans.push(Span::styled(close.to_string(), base)),
        }
        (spans, base)
    }
}

fn collect_big(value: &Value, path: &str, folded: &mut HashSet<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (format!("{path}/{}", escape(k)), v))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{path}/{i}"), v))
            .collect(),
        _ => return,
    };
    if children.len() > FOLD_ABOVE && !path.is_empty() {
        folded.insert(path.to_string());
    }
    for (child, v) in children {
        collect_big(v, &child, folded);
    }
}

/// (key for objects, JSON pointer, value) of each child.
type Children<'a> = Vec<(Option<String>, String, &'a Value)>;

fn walk(
    value: &Value,
    path: &str,
    key: Option<String>,
    depth: usize,
    folded: &HashSet<String>,
    out: &mut Vec<JsonLine>,
) {
    let (open, close, children): (char, char, Children) = match value {
        Value::Object(map) => (
            '{',
            '}',
            map.iter()
                .map(|(k, v)| (Some(k.clone()), format!("{path}/{}", escape(k)), v))
                .collect(),
        ),
        Value::Array(items) => (
            '[',
            ']',
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (None, format!("{path}/{i}"), v))
                .collect(),
        ),
        scalar => {
            let (text, tone) = match scalar {
                Value::String(s) => (serde_json::to_string(s).unwrap_or_default(), Tone::Good),
                Value::Number(n) => (n.to_string(), Tone::Live),
                Value::Bool(b) => (b.to_string(), Tone::Warn),
                _ => ("null".to_string(), Tone::Muted),
            };
            out.push(JsonLine {
                depth,
                path: path.to_string(),
                key,
                body: LineBody::Scalar(text, tone),
            });
            return;
        }
    };
    let count = children.len();
    if count == 0 {
        let empty = if open == '{' { "{}" } else { "[]" };
        out.push(JsonLine {
            depth,
            path: path.to_string(),
            key,
            body: LineBody::Scalar(empty.to_string(), Tone::Muted),
        });
        return;
    }
    let summary = match (open, count) {
        ('{', 1) => "1 key".to_string(),
        ('{', n) => format!("{n} keys"),
        (_, 1) => "1 item".to_string(),
        (_, n) => format!("{n} items"),
    };
    let is_folded = folded.contains(path);
    out.push(JsonLine {
        depth,
        path: path.to_string(),
        key,
        body: LineBody::Open {
            open,
            summary,
            folded: is_folded,
        },
    });
    if is_folded {
        return;
    }
    for (child_key, child_path, child) in children {
        walk(child, &child_path, child_key, depth + 1, folded, out);
    }
    out.push(JsonLine {
        depth,
        path: path.to_string(),
        key: None,
        body: LineBody::Close(close),
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"data": {"clinic": "Hill", "items": [1, 2, 3]}, "request": {"a": 1, "b": 2, "c": 3, "d": "P-0042"}}"#;

    #[test]
    fn folding_hides_children_and_shows_a_summary() {
        let mut view = JsonView::new(DOC);
        let before = view.lines().len();
        view.move_to(1); // "data": {
        view.toggle_fold();
        let lines = view.lines();
        assert!(lines.len() < before);
        assert_eq!(
            lines[1].body,
            LineBody::Open {
                open: '{',
                summary: "2 keys".into(),
                folded: true
            }
        );
        view.toggle_fold();
        assert_eq!(view.lines().len(), before);
    }

    #[test]
    fn search_unfolds_to_the_match_and_cycles() {
        let mut view = JsonView::new(DOC);
        view.folded.insert("/request".into());
        assert_eq!(view.set_search(Some("p-0042".into())), 1);
        let line = &view.lines()[view.cursor];
        assert_eq!(line.path, "/request/d");
        assert!(!view.folded.contains("/request"));
        assert_eq!(view.value_at_cursor(), "\"P-0042\"");
    }

    #[test]
    fn value_at_cursor_writes_the_collection() {
        let mut view = JsonView::new(DOC);
        view.move_to(3); // "items": [
        assert!(view.value_at_cursor().contains('3'));
        view.move_to(0);
        assert!(view.value_at_cursor().contains("clinic"));
    }

    #[test]
    fn non_json_text_is_shown_as_is() {
        let view = JsonView::new("not json\nsecond line");
        assert_eq!(view.lines().len(), 2);
    }
}
