//! Maps positions in compiled code back to the job source.
//!
//! Lines are 1-based and columns 0-based, both counted in UTF-16 code units like JavaScript
//! engines count them. Text copied verbatim from the job maps character by character; text
//! the compiler synthesised (e.g. `state => `, `_defer(`) maps to the position of the node
//! it was made for; the import header maps to nothing.

/// Where a run of output text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    /// First output column of the run.
    out_column: u32,
    /// Original position (line, column) of the run's first character.
    original: Option<(u32, u32)>,
    /// Copied text: later columns in the run advance the original column one for one.
    exact: bool,
}

/// One operation of the default export (OpenFn's source-map "operations" index), used to
/// say which operation an error came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Callee name (`fn`, `each`, `_defer`); None for member calls like `http.get()`.
    pub name: Option<String>,
    /// 1-based line of the call in the job; None for a synthesised `_defer(...)`.
    pub line: Option<u32>,
    /// 1-based position in the operation list.
    pub order: u32,
}

/// Output position → original job position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    /// `lines[i]` holds the segments of output line `i + 1`, in column order.
    lines: Vec<Vec<Segment>>,
    operations: Vec<Operation>,
}

impl SourceMap {
    /// The operations moved into `export default [...]`, in order (index = operation index).
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub(crate) fn set_operations(&mut self, operations: Vec<Operation>) {
        self.operations = operations;
    }

    /// The job position (line, column) of output position (`line`, `column`), if that
    /// output text came from the job.
    pub fn original_position(&self, line: u32, column: u32) -> Option<(u32, u32)> {
        let segments = self.lines.get(line.checked_sub(1)? as usize)?;
        let index = segments.partition_point(|s| s.out_column <= column);
        let segment = segments.get(index.checked_sub(1)?)?;
        let (orig_line, orig_column) = segment.original?;
        if segment.exact {
            Some((orig_line, orig_column + (column - segment.out_column)))
        } else {
            Some((orig_line, orig_column))
        }
    }

    fn push(&mut self, out_line: u32, segment: Segment) {
        let index = out_line.saturating_sub(1) as usize;
        if self.lines.len() <= index {
            self.lines.resize_with(index + 1, Vec::new);
        }
        let line = &mut self.lines[index];
        // A later segment at the same column replaces an earlier, empty one.
        if line
            .last()
            .is_some_and(|last| last.out_column == segment.out_column)
        {
            line.pop();
        }
        line.push(segment);
    }
}

/// Converts byte offsets in the job source into (line, UTF-16 column).
pub(crate) struct LineIndex<'s> {
    source: &'s str,
    line_starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            source,
            line_starts,
        }
    }

    /// (1-based line, 0-based UTF-16 column) of a byte offset.
    pub(crate) fn position(&self, offset: u32) -> (u32, u32) {
        let offset = (offset as usize).min(self.source.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .source
            .get(start..offset)
            .map_or(0, |text| text.encode_utf16().count());
        (line as u32 + 1, column as u32)
    }
}

/// Builds the compiled code and its source map together.
pub(crate) struct CodeWriter<'s> {
    source: &'s str,
    index: LineIndex<'s>,
    code: String,
    line: u32,
    column: u32,
    map: SourceMap,
}

impl<'s> CodeWriter<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        Self {
            source,
            index: LineIndex::new(source),
            code: String::with_capacity(source.len() + 256),
            line: 1,
            column: 0,
            map: SourceMap::default(),
        }
    }

    /// Copies `source[start..end]` verbatim, mapping it character for character.
    pub(crate) fn copy(&mut self, start: u32, end: u32) {
        if start >= end {
            return;
        }
        let source = self.source;
        let Some(text) = source.get(start as usize..end as usize) else {
            return;
        };
        let mut offset = start;
        for piece in text.split_inclusive('\n') {
            let original = Some(self.index.position(offset));
            self.map.push(
                self.line,
                Segment {
                    out_column: self.column,
                    original,
                    exact: true,
                },
            );
            self.append(piece);
            offset += piece.len() as u32;
        }
    }

    /// Writes synthesised text, mapped to the job position `anchor` (a byte offset) if any.
    pub(crate) fn insert(&mut self, text: &str, anchor: Option<u32>) {
        let original = anchor.map(|a| self.index.position(a));
        for piece in text.split_inclusive('\n') {
            self.map.push(
                self.line,
                Segment {
                    out_column: self.column,
                    original,
                    exact: false,
                },
            );
            self.append(piece);
        }
    }

    pub(crate) fn ends_with(&self, suffix: &str) -> bool {
        self.code.ends_with(suffix)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.code.is_empty()
    }

    pub(crate) fn finish(self) -> (String, SourceMap) {
        (self.code, self.map)
    }

    fn append(&mut self, text: &str) {
        self.code.push_str(text);
        match text.rfind('\n') {
            Some(newline) => {
                self.line += text.matches('\n').count() as u32;
                self.column = text[newline + 1..].encode_utf16().count() as u32;
            }
            None => self.column += text.encode_utf16().count() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied_text_maps_column_for_column_and_inserts_map_to_their_anchor() {
        let source = "fn(a);\nget(b);";
        let mut writer = CodeWriter::new(source);
        writer.insert("import x;\n", None);
        writer.copy(7, 14); // "get(b);"
        writer.insert(" state => ", Some(3));
        let (code, map) = writer.finish();
        assert_eq!(code, "import x;\nget(b); state => ");
        assert_eq!(map.original_position(1, 3), None);
        assert_eq!(map.original_position(2, 0), Some((2, 0)));
        assert_eq!(map.original_position(2, 4), Some((2, 4)));
        assert_eq!(map.original_position(2, 9), Some((1, 3)));
        assert_eq!(map.original_position(3, 0), None);
    }

    #[test]
    fn columns_count_utf16_units() {
        let index = LineIndex::new("a\n€😀x");
        assert_eq!(index.position(2), (2, 0));
        assert_eq!(index.position(2 + 3 + 4), (2, 3));
    }
}
