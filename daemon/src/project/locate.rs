//! Finding where a key path sits in a YAML file, for error messages that name a line.
//!
//! YAML parsers hand back values without positions, so this walks the block-style layout
//! that project files use (indentation-nested `key:` lines) to find a path's line.

/// 1-based (line, column) of the mapping key at `path` (e.g. ["workflows", "w", "jobs", "a"]).
pub fn locate(source: &str, path: &[&str]) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut parent_indent: Option<usize> = None;
    let mut found = None;
    for (number, line) in source.lines().enumerate() {
        if depth == path.len() {
            break;
        }
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if let Some(parent) = parent_indent
            && indent <= parent
        {
            // Left the parent's block without finding the next key.
            if found.is_some() && depth > 0 {
                return found;
            }
            return None;
        }
        if key_of(trimmed).is_some_and(|key| key == path[depth]) {
            found = Some((number + 1, indent + 1));
            parent_indent = Some(indent);
            depth += 1;
        }
    }
    if depth == path.len() {
        found
    } else {
        found.filter(|_| depth > 0)
    }
}

/// The key of a `key: value` or `key:` line, with quotes removed.
fn key_of(line: &str) -> Option<String> {
    let line = line.strip_prefix("- ").unwrap_or(line);
    let (key, _) = if let Some(rest) = line.strip_prefix('\'') {
        let end = rest.find('\'')?;
        (rest[..end].to_string(), &rest[end + 1..])
    } else if let Some(rest) = line.strip_prefix('"') {
        let end = rest.find('"')?;
        (rest[..end].to_string(), &rest[end + 1..])
    } else {
        let colon = line.find(':')?;
        (line[..colon].trim_end().to_string(), &line[colon..])
    };
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "name: p\nworkflows:\n  w1:\n    jobs:\n      a:\n        name: A\n    edges:\n      'a->b':\n        target_job: b\n";

    #[test]
    fn finds_nested_keys() {
        assert_eq!(
            locate(YAML, &["workflows", "w1", "jobs", "a"]),
            Some((5, 7))
        );
        assert_eq!(
            locate(YAML, &["workflows", "w1", "edges", "a->b", "target_job"]),
            Some((9, 9))
        );
    }

    #[test]
    fn missing_key_gives_closest_parent() {
        assert_eq!(locate(YAML, &["workflows", "w1", "triggers"]), Some((3, 3)));
    }
}
