//! Span-based rewriting: every transform records replacements of exact AST spans, and the
//! renderer copies the job source, substituting those spans. A replacement may itself copy
//! sub-spans of the source, to which the edits inside them apply again — that is how nested
//! transforms (a `$` inside a `.then()` chain inside `each(...)`) compose.

use oxc::span::Span;

use super::source_map::CodeWriter;

/// A part of a replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Synthesised text, mapped to a byte offset of the job source.
    Text(String, u32),
    /// A span of the job source, rendered with the edits inside it.
    Source(Span),
}

/// Replace `span` (possibly empty: an insertion) with `pieces`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub span: Span,
    pub pieces: Vec<Piece>,
}

impl Edit {
    pub(crate) fn new(span: Span, pieces: Vec<Piece>) -> Self {
        Self { span, pieces }
    }
}

/// All edits of one compilation. Spans of different edits are nested or disjoint.
#[derive(Debug, Default)]
pub(crate) struct Edits {
    edits: Vec<Edit>,
    sorted: bool,
}

impl Edits {
    pub(crate) fn push(&mut self, edit: Edit) {
        self.edits.push(edit);
        self.sorted = false;
    }

    pub(crate) fn extend(&mut self, edits: impl IntoIterator<Item = Edit>) {
        for edit in edits {
            self.push(edit);
        }
    }

    /// By start; at one start, insertions first, then outer edits before inner ones.
    fn sort(&mut self) {
        if !self.sorted {
            self.edits.sort_by(|a, b| {
                a.span
                    .start
                    .cmp(&b.span.start)
                    .then(a.span.is_empty().cmp(&b.span.is_empty()).reverse())
                    .then(b.span.end.cmp(&a.span.end))
            });
            self.sorted = true;
        }
    }

    /// Renders `source[span]` with every edit inside it applied.
    pub(crate) fn render(&mut self, span: Span, out: &mut CodeWriter<'_>) {
        self.sort();
        self.render_sorted(span, None, out);
    }

    fn render_sorted(&self, span: Span, skip: Option<usize>, out: &mut CodeWriter<'_>) {
        let mut position = span.start;
        let first = self.edits.partition_point(|e| e.span.start < span.start);
        for (index, edit) in self.edits.iter().enumerate().skip(first) {
            if edit.span.start > span.end {
                break;
            }
            let inside = edit.span.end <= span.end && edit.span.start >= position;
            if Some(index) == skip || !inside {
                continue;
            }
            out.copy(position, edit.span.start);
            for piece in &edit.pieces {
                match piece {
                    Piece::Text(text, anchor) => out.insert(text, Some(*anchor)),
                    Piece::Source(inner) if *inner == edit.span => {
                        self.render_sorted(*inner, Some(index), out);
                    }
                    Piece::Source(inner) => self.render_sorted(*inner, None, out),
                }
            }
            position = edit.span.end;
        }
        out.copy(position, span.end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, edits: Vec<Edit>) -> String {
        let mut all = Edits::default();
        all.extend(edits);
        let mut out = CodeWriter::new(source);
        all.render(Span::new(0, source.len() as u32), &mut out);
        out.finish().0
    }

    #[test]
    fn nested_edits_apply_inside_replacements() {
        let source = "fn($.a)";
        let wrap = Edit::new(
            Span::new(3, 6),
            vec![
                Piece::Text("state => ".into(), 3),
                Piece::Source(Span::new(3, 6)),
            ],
        );
        let rename = Edit::new(Span::new(3, 4), vec![Piece::Text("state".into(), 3)]);
        assert_eq!(render(source, vec![rename, wrap]), "fn(state => state.a)");
    }

    #[test]
    fn replacements_can_reorder_sub_spans() {
        let source = "op().then(f)";
        let defer = Edit::new(
            Span::new(0, 12),
            vec![
                Piece::Text("_defer(".into(), 0),
                Piece::Source(Span::new(0, 4)),
                Piece::Text(", p => p".into(), 4),
                Piece::Source(Span::new(4, 12)),
                Piece::Text(")".into(), 12),
            ],
        );
        assert_eq!(render(source, vec![defer]), "_defer(op(), p => p.then(f))");
    }

    #[test]
    fn insertions_at_a_position() {
        let source = "[a]";
        let insert = Edit::new(Span::new(2, 2), vec![Piece::Text(", b".into(), 2)]);
        assert_eq!(render(source, vec![insert]), "[a, b]");
    }
}
