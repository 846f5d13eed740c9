//! A small line diff (longest common subsequence) for "what will this save change?".

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
    /// Unchanged lines left out between hunks.
    Skipped(usize),
}

/// Above this many lines on both sides the table gets big; compare line by line instead.
const MAX_LCS_CELLS: usize = 4_000_000;

pub fn diff_lines(old: &str, new: &str, context: usize) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let full = if a.len() * b.len() > MAX_LCS_CELLS {
        naive(&a, &b)
    } else {
        lcs(&a, &b)
    };
    trim_context(full, context)
}

fn lcs(a: &[&str], b: &[&str]) -> Vec<DiffLine> {
    let (n, m) = (a.len(), b.len());
    let mut table = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[at(i, j)] = if a[i] == b[j] {
                table[at(i + 1, j + 1)] + 1
            } else {
                table[at(i + 1, j)].max(table[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(DiffLine::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if table[at(i + 1, j)] >= table[at(i, j + 1)] {
            out.push(DiffLine::Removed(a[i].to_string()));
            i += 1;
        } else {
            out.push(DiffLine::Added(b[j].to_string()));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| DiffLine::Removed(l.to_string())));
    out.extend(b[j..].iter().map(|l| DiffLine::Added(l.to_string())));
    out
}

fn naive(a: &[&str], b: &[&str]) -> Vec<DiffLine> {
    let mut out = Vec::new();
    for index in 0..a.len().max(b.len()) {
        match (a.get(index), b.get(index)) {
            (Some(x), Some(y)) if x == y => out.push(DiffLine::Same(x.to_string())),
            (x, y) => {
                out.extend(x.map(|l| DiffLine::Removed(l.to_string())));
                out.extend(y.map(|l| DiffLine::Added(l.to_string())));
            }
        }
    }
    out
}

fn trim_context(lines: Vec<DiffLine>, context: usize) -> Vec<DiffLine> {
    let changed: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, DiffLine::Same(_)))
        .map(|(i, _)| i)
        .collect();
    let near = |i: usize| changed.iter().any(|c| c.abs_diff(i) <= context);
    let mut out = Vec::new();
    let mut skipped = 0;
    for (index, line) in lines.into_iter().enumerate() {
        if matches!(line, DiffLine::Same(_)) && !near(index) {
            skipped += 1;
            continue;
        }
        if skipped > 0 {
            out.push(DiffLine::Skipped(skipped));
            skipped = 0;
        }
        out.push(line);
    }
    if skipped > 0 {
        out.push(DiffLine::Skipped(skipped));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shows_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng";
        let new = "a\nb\nc\nD\ne\nf\ng";
        let diff = diff_lines(old, new, 1);
        assert_eq!(
            diff,
            vec![
                DiffLine::Skipped(2),
                DiffLine::Same("c".into()),
                DiffLine::Removed("d".into()),
                DiffLine::Added("D".into()),
                DiffLine::Same("e".into()),
                DiffLine::Skipped(2),
            ]
        );
    }

    #[test]
    fn identical_text_has_no_changes() {
        assert!(
            diff_lines("x\ny", "x\ny", 3)
                .iter()
                .all(|l| !matches!(l, DiffLine::Added(_) | DiffLine::Removed(_)))
        );
    }
}
